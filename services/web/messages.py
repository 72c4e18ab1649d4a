"""Meddelanden (the manual's chapter 6), for every role: the inbox and the sent folder;
"Nytt meddelande" with a recipient search that needs no script and files to attach; reading
a message with its files to download, "Skriv ut", "Radera", "Svara", "Svara alla" and
"Vidarebefordra". The messaging service keeps the messages; this is its face."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from services.web import listing
from services.web.client import ApiError, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.pages import Form, Page, Web

router = APIRouter()

# what the messaging service takes (services/messaging/domain.py and schemas.py)
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
MESSAGES_PER_PAGE = 50  # a folder page; "Nästa sida" for the older ones
EXTENSIONS = (".pdf", ".docx", ".odt", ".txt", ".png", ".jpg", ".jpeg")
ACCEPT = ",".join(EXTENSIONS)

# the platform's own notices, by their kind; any other kind is "Meddelande från Lifecare"
NOTICE_KINDS = {"order.reminder": N_("Påminnelse")}
MAILBOX_KINDS = {"group": N_("Grupp"), "unit": N_("Enhet"), "user": N_("Person")}

# where a refusal of the messaging service belongs in the form, and what it says
SEND_CODES: dict[str, tuple[str | None, str]] = {
    "invalid_mailbox": ("to", N_("Välj mottagare bland sökträffarna.")),
    "unknown_mailbox": ("to", N_("En mottagare finns inte. Sök fram mottagaren igen.")),
    "no_recipients": ("to", N_("Välj minst en mottagare.")),
    "unknown_attachment": ("files", N_("En bifogad fil finns inte längre. Välj filerna igen.")),
    "message_not_found": (None, N_("Meddelandet finns inte längre.")),
}
REPLY_CODES: dict[str, tuple[str | None, str]] = {
    "notice_cannot_be_answered": (
        None,
        N_("Ett meddelande från Lifecare kan inte besvaras. Vidarebefordra det i stället."),
    ),
    "no_recipients": (None, N_("Det finns ingen annan att svara än du själv.")),
    "message_not_found": (None, N_("Meddelandet finns inte längre.")),
}
FIELDS = {"to": "to", "subject": "subject", "body": "body", "attachment_ids": "files"}
UPLOAD_TEXTS = {
    "file_too_large": N_("Filen {name} är större än 10 MB."),
    "payload_too_large": N_("Filen {name} är större än 10 MB."),
    "file_type_not_allowed": N_(
        "Filen {name} går inte att bifoga: bara PDF, DOCX, ODT, TXT, PNG och JPG går."
    ),
    "file_content_mismatch": N_(
        "Innehållet i filen {name} är inte det som filnamnets ändelse säger."
    ),
    "empty_file": N_("Filen {name} är tom."),
    "missing_filename": N_("En fil saknar namn."),
}
UNAVAILABLE = N_(
    "Meddelandetjänsten svarar inte just nu, så meddelandet har inte skickats. Försök igen om "
    "en stund."
)


def file_size(size: int) -> str:
    """A file's size as people read it: "12 kB", "1,5 MB"."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} kB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def _message_id(text: str) -> str:
    """The id in a message's address; any other text is a page that does not exist."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise HTTPException(404) from None


def _mine(page: Page) -> str:
    assert page.session.person is not None
    return f"user:{page.session.person.sub}"


# --- the recipients of a form, kept across its re-renders ---------------------------------------


@dataclass
class Recipients:
    """The mailboxes ticked in a form, and the names of every mailbox it showed (carried in
    hidden fields, so a re-render without script keeps them without asking again)."""

    chosen: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, form: FormData) -> Recipients:
        names = {}
        for item in form.getlist("known"):
            if isinstance(item, str) and " " in item:
                mailbox, name = item.split(" ", 1)
                names[mailbox] = name
        chosen = [str(m) for m in form.getlist("to") if isinstance(m, str) and m]
        return cls(list(dict.fromkeys(chosen)), names)

    def choices(self, hits: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
        """The ticked mailboxes, and the search's hits that are not among them."""
        for hit in hits:
            self.names.setdefault(hit["id"], hit["name"])
        chosen = [self._box(m) for m in self.chosen]
        found = [self._box(h["id"]) for h in hits if h["id"] not in self.chosen]
        return chosen, found

    def _box(self, mailbox: str) -> dict[str, str]:
        kind = mailbox.split(":", 1)[0]
        return {"id": mailbox, "name": self.names.get(mailbox, mailbox), "kind": kind}


async def _search(page: Page, q: str) -> list[dict[str, Any]]:
    return list(await page.api.get("messaging", "/mailboxes", page.token, q=q.strip()[:100]))


def _values(form: FormData) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "to"}


def _files(form: FormData) -> list[UploadFile]:
    return [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]


def _check_files(files: list[UploadFile], form: Form) -> None:
    """Refuse what the messaging service would refuse by name and size, before sending any;
    every file's problem at the one field."""
    texts = []
    if len(files) > MAX_FILES:
        texts.append(N_("Du kan bifoga högst 10 filer till ett meddelande."))
    for upload in files:
        name = upload.filename or ""
        if not name.casefold().endswith(EXTENSIONS):
            texts.append(UPLOAD_TEXTS["file_type_not_allowed"].format(name=name))
        elif (upload.size or 0) > MAX_FILE_BYTES:
            texts.append(UPLOAD_TEXTS["file_too_large"].format(name=name))
    if texts:
        form.add("files", " ".join(texts))


class UploadRefused(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


async def _upload(page: Page, files: list[UploadFile]) -> list[str]:
    """Hand each file to the messaging service; their attachment ids."""
    ids = []
    for upload in files:
        name = upload.filename or ""
        data = await upload.read(MAX_FILE_BYTES + 1)
        content_type = upload.content_type or "application/octet-stream"
        try:
            response = await page.api.call(
                "messaging",
                "POST",
                "/attachments",
                page.token,
                files={"file": (name, data, content_type)},
            )
        except ApiError as error:
            if error.status == 401:
                raise  # signed out meanwhile: sign in again
            text = UPLOAD_TEXTS.get(error.code, N_("Filen {name} kunde inte bifogas."))
            raise UploadRefused(text.format(name=name)) from error
        ids.append(str(response.json()["id"]))
    return ids


# --- the folders -------------------------------------------------------------------------------


async def _folder(page: Page, folder: str, path: str, efter: str | None) -> Response:
    """A folder a page at a time, newest first, with "Nästa sida" while more follow."""
    found = await listing.one_page(
        page, "messaging", "/messages", efter=efter, folder=folder, limit=MESSAGES_PER_PAGE
    )
    return await page.render(
        "messages/folder.html",
        folder=folder,
        messages=found.rows,
        notice_kinds=NOTICE_KINDS,
        later_page=bool(efter),
        **listing.links(path, found, efter),
    )


@router.get("/meddelanden")
async def inbox(page: Web, efter: str | None = None) -> Response:
    return await _folder(page, "inbox", "/meddelanden", efter)


@router.get("/meddelanden/skickade")
async def sent(page: Web, efter: str | None = None) -> Response:
    return await _folder(page, "sent", "/meddelanden/skickade", efter)


# --- Nytt meddelande ---------------------------------------------------------------------------


async def _compose(
    page: Page,
    form: Form,
    recipients: Recipients,
    *,
    status_code: int = 200,
    hits: list[dict[str, Any]] | None = None,
    dropped: list[str] | None = None,
    template: str = "messages/new.html",
    **context: Any,
) -> Response:
    chosen, found = recipients.choices(hits or [])
    return await page.render(
        template,
        status_code,
        form=form,
        chosen=chosen,
        found=found,
        searched=hits is not None,
        dropped=dropped or [],
        accept=ACCEPT,
        mailbox_kinds=MAILBOX_KINDS,
        **context,
    )


@router.get("/meddelanden/nytt")
async def new_message(page: Web) -> Response:
    return await _compose(page, Form(), Recipients())


@router.post("/meddelanden/nytt")
async def send_new_message(page: Web) -> Response:
    posted = await page.form()
    values = _values(posted)
    recipients = Recipients.of(posted)
    files = _files(posted)
    dropped = [f.filename or "" for f in files]
    if posted.get("action") == "search":
        form = Form(values=values)
        try:
            hits = await _search(page, values.get("q", ""))
        except ServiceDown:
            form.add(None, N_("Mottagarsökningen svarar inte just nu. Försök igen om en stund."))
            return await _compose(page, form, recipients, status_code=503, dropped=dropped)
        return await _compose(page, form, recipients, hits=hits, dropped=dropped)

    async with page.once(posted) as once:
        if once.earlier:
            return once.again()
        form = Form(values=values)
        if not recipients.chosen:
            form.add("to", N_("Välj minst en mottagare: sök fram den och kryssa i den."))
        if not values.get("subject", "").strip():
            form.add("subject", N_("Skriv ett ämne."))
        if not values.get("body", "").strip():
            form.add("body", N_("Skriv ditt meddelande."))
        _check_files(files, form)
        if form.invalid:
            return await _compose(page, form, recipients, status_code=422, dropped=dropped)
        try:
            attachment_ids = await _upload(page, files)
            message = await page.api.post(
                "messaging",
                "/messages",
                page.token,
                {
                    "to": recipients.chosen,
                    "subject": values.get("subject", ""),
                    "body": values.get("body", ""),
                    "attachment_ids": attachment_ids,
                },
            )
        except UploadRefused as refused:
            form.add("files", refused.text)
            return await _compose(page, form, recipients, status_code=422, dropped=dropped)
        except ApiError as error:
            if error.status == 401:
                raise
            form.refused(error, SEND_CODES, FIELDS)
            return await _compose(page, form, recipients, status_code=error.status, dropped=dropped)
        except ServiceDown:
            form.add(None, UNAVAILABLE)
            return await _compose(page, form, recipients, status_code=503, dropped=dropped)
        return once.done(f"/meddelanden/{message['id']}", flash=N_("Meddelandet har skickats."))


# --- one message -------------------------------------------------------------------------------


async def _message(page: Page, message_id: str) -> dict[str, Any]:
    """The message (read by opening it); a 404 page when the person may not read it."""
    return dict(await page.api.get("messaging", f"/messages/{_message_id(message_id)}", page.token))


async def _shown(page: Page, message_id: str) -> dict[str, Any] | None:
    """The message to show again below a refused form; None when the service is down (the
    form is shown with what was typed all the same)."""
    try:
        return await _message(page, message_id)
    except ServiceDown:
        return None


def _answers(page: Page, message: dict[str, Any] | None) -> dict[str, list[str]]:
    """Whom "Svara" and "Svara alla" would write to (names): nobody for a notice."""
    if message is None or message["sender"]["id"] is None:
        return {"one": [], "all": []}
    sender: dict[str, str] = message["sender"]
    mine = _mine(page)
    everyone = {sender["id"]: sender["name"]}
    for box in message["to"]:
        everyone.setdefault(box["id"], box["name"])
    return {
        "one": [sender["name"]] if sender["id"] != mine else [],
        "all": [name for mailbox, name in everyone.items() if mailbox != mine],
    }


@router.get("/meddelanden/{message_id}")
async def read(page: Web, message_id: str) -> Response:
    message = await _message(page, message_id)
    return await page.render(
        "messages/read.html",
        message=message,
        answers=_answers(page, message),
        notice_kinds=NOTICE_KINDS,
        file_size=file_size,
    )


@router.get("/meddelanden/{message_id}/skriv-ut")
async def print_page(page: Web, message_id: str) -> Response:
    message = await _message(page, message_id)
    return await page.render(
        "messages/print.html", message=message, notice_kinds=NOTICE_KINDS, file_size=file_size
    )


@router.get("/bilagor/{attachment_id}")
async def download(page: Web, attachment_id: str) -> Response:
    """A file of a message, streamed on as the messaging service gives it (its type and
    name); a 404 page for a file the person may not have."""
    api = page.api
    request = api.http.build_request(
        "GET",
        f"{api.base['messaging']}/attachments/{_message_id(attachment_id)}",
        headers={"Authorization": f"Bearer {page.token}"},
    )
    try:
        answer = await api.http.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise ServiceDown("messaging") from exc
    if answer.status_code >= 400:
        await answer.aclose()
        if answer.status_code >= 500:
            raise ServiceDown("messaging")
        raise ApiError(answer.status_code, f"http_{answer.status_code}", answer.reason_phrase)
    headers = {"Content-Disposition": answer.headers.get("content-disposition", "attachment")}
    if "content-length" in answer.headers and "content-encoding" not in answer.headers:
        headers["Content-Length"] = answer.headers["content-length"]
    return StreamingResponse(
        answer.aiter_bytes(),
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers=headers,
        background=BackgroundTask(answer.aclose),
    )


# --- Radera ------------------------------------------------------------------------------------


@router.get("/meddelanden/{message_id}/radera")
async def delete_page(page: Web, message_id: str) -> Response:
    message = await _message(page, message_id)
    return await page.render("messages/delete.html", message=message, form=Form())


@router.post("/meddelanden/{message_id}/radera")
async def delete(page: Web, message_id: str) -> Response:
    posted = await page.form()
    path = f"/messages/{_message_id(message_id)}"
    async with page.once(posted) as once:
        if once.earlier:
            return once.again()
        try:
            await page.api.delete("messaging", path, page.token)
        except ServiceDown:
            form = Form()
            form.add(None, N_("Meddelandetjänsten svarar inte just nu. Försök igen om en stund."))
            message = await _shown(page, message_id)
            return await page.render("messages/delete.html", 503, message=message, form=form)
        return once.done("/meddelanden", flash=N_("Meddelandet har raderats."))


# --- Svara, Svara alla -------------------------------------------------------------------------


def _reply_subject(subject: str) -> str:
    return subject if subject.casefold().startswith("sv: ") else f"Sv: {subject}"


async def _reply_page(
    page: Page, message: dict[str, Any] | None, all: bool, form: Form, status_code: int = 200
) -> Response:
    return await page.render(
        "messages/reply.html",
        status_code,
        message=message,
        all=all,
        form=form,
        answers=_answers(page, message),
        subject=_reply_subject(message["subject"]) if message else "",
        notice_kinds=NOTICE_KINDS,
    )


async def _reply(page: Page, message_id: str, all: bool) -> Response:
    posted = await page.form()
    values = _values(posted)
    path = f"/messages/{_message_id(message_id)}/reply"
    async with page.once(posted) as once:
        if once.earlier:
            return once.again()
        form = Form(values=values)
        if not values.get("body", "").strip():
            form.add("body", N_("Skriv ditt svar."))
            return await _reply_page(page, await _shown(page, message_id), all, form, 422)
        try:
            answer = await page.api.post(
                "messaging", path, page.token, {"body": values.get("body", ""), "all": all}
            )
        except ApiError as error:
            if error.status in (401, 404):
                raise
            form.refused(error, REPLY_CODES, FIELDS)
            message = await _shown(page, message_id)
            return await _reply_page(page, message, all, form, error.status)
        except ServiceDown:
            form.add(None, UNAVAILABLE)
            return await _reply_page(page, await _shown(page, message_id), all, form, 503)
        return once.done(f"/meddelanden/{answer['id']}", flash=N_("Svaret har skickats."))


@router.get("/meddelanden/{message_id}/svara")
async def reply_page(page: Web, message_id: str) -> Response:
    return await _reply_page(page, await _message(page, message_id), False, Form())


@router.post("/meddelanden/{message_id}/svara")
async def reply(page: Web, message_id: str) -> Response:
    return await _reply(page, message_id, all=False)


@router.get("/meddelanden/{message_id}/svara-alla")
async def reply_all_page(page: Web, message_id: str) -> Response:
    return await _reply_page(page, await _message(page, message_id), True, Form())


@router.post("/meddelanden/{message_id}/svara-alla")
async def reply_all(page: Web, message_id: str) -> Response:
    return await _reply(page, message_id, all=True)


# --- Vidarebefordra ----------------------------------------------------------------------------


@router.get("/meddelanden/{message_id}/vidarebefordra")
async def forward_page(page: Web, message_id: str) -> Response:
    message = await _message(page, message_id)
    return await _compose(
        page, Form(), Recipients(), template="messages/forward.html", message=message
    )


@router.post("/meddelanden/{message_id}/vidarebefordra")
async def forward(page: Web, message_id: str) -> Response:
    posted = await page.form()
    values = _values(posted)
    recipients = Recipients.of(posted)
    path = f"/messages/{_message_id(message_id)}/forward"
    if posted.get("action") == "search":
        form = Form(values=values)
        message = await _shown(page, message_id)
        try:
            hits = await _search(page, values.get("q", ""))
        except ServiceDown:
            form.add(None, N_("Mottagarsökningen svarar inte just nu. Försök igen om en stund."))
            return await _compose(
                page,
                form,
                recipients,
                status_code=503,
                template="messages/forward.html",
                message=message,
            )
        return await _compose(
            page, form, recipients, hits=hits, template="messages/forward.html", message=message
        )

    async with page.once(posted) as once:
        if once.earlier:
            return once.again()
        form = Form(values=values)
        if not recipients.chosen:
            form.add("to", N_("Välj minst en mottagare: sök fram den och kryssa i den."))
        else:
            try:
                answer = await page.api.post(
                    "messaging",
                    path,
                    page.token,
                    {"to": recipients.chosen, "body": values.get("body", "")},
                )
            except ApiError as error:
                if error.status in (401, 404):
                    raise
                form.refused(error, SEND_CODES, FIELDS)
            except ServiceDown:
                form.add(None, UNAVAILABLE)
            else:
                return once.done(
                    f"/meddelanden/{answer['id']}", flash=N_("Meddelandet har vidarebefordrats.")
                )
        status_code = 503 if UNAVAILABLE in form.problems else 422
        message = await _shown(page, message_id)
        return await _compose(
            page,
            form,
            recipients,
            status_code=status_code,
            template="messages/forward.html",
            message=message,
        )
