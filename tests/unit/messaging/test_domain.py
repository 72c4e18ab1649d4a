"""The rules of the secure inbox (services/messaging/domain.py): no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Invalid, PayloadTooLarge, UnsupportedMediaType
from services.messaging.domain import (
    MAX_ATTACHMENT_BYTES,
    Envelope,
    FileKind,
    Mailbox,
    MailboxKind,
    check_attachment,
    forward_subject,
    in_inbox,
    inbox_of,
    may_download,
    may_read,
    my_deliveries,
    name_recipients,
    parse_mailbox,
    parse_recipients,
    quoted,
    reply_recipients,
    reply_subject,
    safe_filename,
    search_groups,
    sniff,
    unsent_upload_age,
)
from tests.unit.messaging.files import DOCX, EXE, JPEG, ODS, ODT, PDF, PNG, XLSX

ANNA = Principal(sub="anna", name="Anna", role=Role.provider, unit="solbacken")
BERIT = Principal(sub="berit", name="Berit", role=Role.provider, unit="solbacken")
STRANGER = Principal(sub="sara", name="Sara", role=Role.provider, unit="ekbacken")
BO = Principal(sub="bo", name="Bo", role=Role.coordinator)
CECILIA = Principal(sub="cecilia", name="Cecilia", role=Role.caseworker)
FRIDA = Principal(sub="frida", name="Frida", role=Role.fee_admin)
ADAM = Principal(sub="adam", name="Adam", role=Role.admin)


# --- mailboxes -----------------------------------------------------------------------------


def test_mailbox_ids_are_read_by_kind():
    assert parse_mailbox("group:bosam") == Mailbox(MailboxKind.group, "bosam")
    assert parse_mailbox(" unit:solbacken ").id == "unit:solbacken"
    assert parse_mailbox("user:anna") == Mailbox(MailboxKind.user, "anna")


@pytest.mark.parametrize("text", ["", "bosam", "team:x", "unit:", "user:two words", "group:"])
def test_a_malformed_mailbox_is_a_422_that_shows_the_forms(text):
    with pytest.raises(Invalid) as refused:
        parse_mailbox(text)
    assert refused.value.code == "invalid_mailbox"
    assert "group:bosam" in refused.value.message


def test_an_unknown_group_is_refused_with_the_groups_there_are():
    with pytest.raises(Invalid) as refused:
        parse_mailbox("group:kost")
    assert refused.value.code == "unknown_mailbox"
    assert "group:avgifter" in refused.value.message


def test_recipients_are_distinct_in_the_order_given_and_never_none():
    assert [m.id for m in parse_recipients(["unit:a", "group:bosam", "unit:a"])] == [
        "unit:a",
        "group:bosam",
    ]
    with pytest.raises(Invalid):
        parse_recipients([])


def test_bosam_saf_is_found_by_name_or_id():
    assert [g.name for g in search_groups("bosam")] == ["Bosam SÄF"]
    assert [g.name for g in search_groups("säf")] == ["Bosam SÄF"]
    assert [g.name for g in search_groups("bistand")] == ["Bistånd"]
    assert len(search_groups(None)) == 3


def test_groups_are_named_by_themselves_units_and_people_by_the_directory():
    mailboxes = parse_recipients(["group:bosam", "unit:solbacken", "user:anna"])
    known = {"unit:solbacken": "Solbackens äldreboende", "user:anna": "Anna Andersson"}
    assert name_recipients(mailboxes, known, strict=True) == [
        ("group:bosam", "Bosam SÄF"),
        ("unit:solbacken", "Solbackens äldreboende"),
        ("user:anna", "Anna Andersson"),
    ]


def test_a_person_cannot_write_to_a_mailbox_nobody_knows_but_a_notice_goes_there():
    mailboxes = parse_recipients(["unit:nowhere"])
    with pytest.raises(Invalid) as refused:
        name_recipients(mailboxes, {}, strict=True)
    assert refused.value.code == "unknown_mailbox" and "unit:nowhere" in refused.value.message
    assert name_recipients(mailboxes, {}, strict=False) == [("unit:nowhere", "nowhere")]


# --- whose inbox, who reads ----------------------------------------------------------------


def test_an_inbox_is_ones_own_mailbox_the_units_and_the_roles_group():
    assert inbox_of(ANNA) == ["user:anna", "unit:solbacken"]
    assert inbox_of(BO) == ["user:bo", "group:bosam"]
    assert inbox_of(CECILIA) == ["user:cecilia", "group:bistand"]
    assert inbox_of(FRIDA) == ["user:frida", "group:avgifter"]
    assert inbox_of(ADAM) == ["user:adam"]


def test_only_a_provider_reads_a_units_mailbox():
    caseworker_with_unit = Principal(sub="c", name="C", role=Role.caseworker, unit="solbacken")
    assert "unit:solbacken" not in inbox_of(caseworker_with_unit)


def test_sender_and_recipients_read_a_message_and_nobody_else():
    to_bosam = Envelope(sender_sub="anna", sender_deleted=False, mailboxes=("group:bosam",))
    assert may_read(ANNA, to_bosam)
    assert may_read(BO, to_bosam)
    assert not may_read(STRANGER, to_bosam)
    assert not may_read(CECILIA, to_bosam)


def test_a_units_colleague_reads_what_came_to_the_unit():
    to_unit = Envelope(sender_sub="bo", sender_deleted=False, mailboxes=("unit:solbacken",))
    assert may_read(BERIT, to_unit) and may_read(ANNA, to_unit)
    assert not may_read(STRANGER, to_unit)


def test_deleted_is_gone_for_that_mailbox_and_for_the_sender_who_deleted_it():
    deleted_everywhere = Envelope(sender_sub="anna", sender_deleted=True, mailboxes=())
    assert not may_read(ANNA, deleted_everywhere)
    assert not may_read(BO, deleted_everywhere)


def test_ones_own_message_to_ones_shared_mailbox_is_not_in_ones_inbox():
    to_own_unit = Envelope(sender_sub="anna", sender_deleted=False, mailboxes=("unit:solbacken",))
    assert my_deliveries(ANNA, to_own_unit) == []
    assert my_deliveries(BERIT, to_own_unit) == ["unit:solbacken"]
    assert in_inbox(ANNA, sender_sub="anna", mailbox="user:anna")  # a note to oneself


def test_a_file_is_the_uploaders_and_its_messages_readers():
    carried = [Envelope(sender_sub="anna", sender_deleted=False, mailboxes=("group:bosam",))]
    assert may_download(ANNA, owner_sub="anna", carried_by=[])
    assert may_download(BO, owner_sub="anna", carried_by=carried)
    assert not may_download(STRANGER, owner_sub="anna", carried_by=carried)


# --- reply and forward ---------------------------------------------------------------------


def test_reply_goes_to_the_sender_and_reply_all_to_everyone_but_oneself():
    recipients = ["group:bosam", "user:bo", "unit:ekbacken"]
    assert reply_recipients(BO, sender_sub="anna", recipients=recipients, all=False) == [
        "user:anna"
    ]
    assert reply_recipients(BO, sender_sub="anna", recipients=recipients, all=True) == [
        "user:anna",
        "group:bosam",
        "unit:ekbacken",
    ]


def test_a_notice_from_lifecare_cannot_be_answered():
    with pytest.raises(Conflict) as refused:
        reply_recipients(ANNA, sender_sub=None, recipients=["unit:solbacken"], all=True)
    assert refused.value.code == "notice_cannot_be_answered"


def test_answering_ones_own_note_to_oneself_has_nobody_to_go_to():
    with pytest.raises(Invalid):
        reply_recipients(ANNA, sender_sub="anna", recipients=["user:anna"], all=True)


def test_subjects_get_sv_and_vb_once():
    assert reply_subject("Ledig plats") == "Sv: Ledig plats"
    assert reply_subject("Sv: Ledig plats") == "Sv: Ledig plats"
    assert forward_subject("Avvikelse") == "Vb: Avvikelse"
    assert forward_subject("vb: Avvikelse") == "vb: Avvikelse"


def test_a_reply_quotes_the_original_with_stockholm_time():
    text = quoted(
        "Tack!",
        body="Plan bifogad.",
        sender_name="Anna",
        sent_at=datetime(2026, 1, 15, 13, 5, tzinfo=UTC),
        recipients=["Bosam SÄF"],
        subject="Genomförandeplan",
    )
    assert text.startswith("Tack!\n")
    assert "Från: Anna" in text and "Skickat: 2026-01-15 14:05" in text
    assert "Till: Bosam SÄF" in text and text.endswith("Plan bifogad.")


def test_a_forward_without_a_word_of_its_own_starts_with_the_original():
    at = datetime(2026, 1, 15, 13, 5, tzinfo=UTC)
    text = quoted("", body="x", sender_name="A", sent_at=at, recipients=[], subject="s")
    assert text.startswith("----- Ursprungligt meddelande -----")


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PDF, FileKind.pdf),
        (PNG, FileKind.png),
        (JPEG, FileKind.jpeg),
        (DOCX, FileKind.docx),
        (ODT, FileKind.odt),
        ("Ledig plats från 1 mars, rum 12. Åäö.".encode(), FileKind.txt),
        (b"\xef\xbb\xbfwith a byte order mark", FileKind.txt),
    ],
)
def test_files_are_known_by_their_content(data, kind):
    assert sniff(data) == kind


@pytest.mark.parametrize(
    "data",
    [EXE, XLSX, ODS, b"PK\x03\x04 not really a zip", b"text\x00with a NUL", b"\xff\xfe latin\xe5"],
)
def test_other_content_is_none_of_the_allowed_kinds(data):
    assert sniff(data) is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plan.pdf", PDF),
        ("Plan.DOCX", DOCX),
        ("plan.odt", ODT),
        ("anteckning.txt", b"hej"),
        ("foto.jpg", JPEG),
        ("foto.jpeg", JPEG),
        ("skiss.png", PNG),
    ],
)
def test_an_allowed_file_whose_name_and_content_agree_passes(name, data):
    assert check_attachment(name, data) == sniff(data)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("plan.exe", EXE, "file_type_not_allowed"),
        ("plan", PDF, "file_type_not_allowed"),
        ("plan.xlsx", XLSX, "file_type_not_allowed"),
        ("plan.pdf", EXE, "file_content_mismatch"),
        ("plan.pdf", PNG, "file_content_mismatch"),
        ("plan.docx", XLSX, "file_content_mismatch"),
        ("notes.txt", b"a\x00b", "file_content_mismatch"),
    ],
)
def test_a_file_refused_by_name_or_content_is_a_415(name, data, code):
    with pytest.raises(UnsupportedMediaType) as refused:
        check_attachment(name, data)
    assert refused.value.code == code
    assert "PDF, DOCX, ODT, TXT, PNG and JPEG" in refused.value.message


def test_an_empty_file_is_a_422_and_a_large_one_a_413():
    with pytest.raises(Invalid):
        check_attachment("tom.txt", b"")
    with pytest.raises(PayloadTooLarge):
        check_attachment("stor.txt", b"a" * (MAX_ATTACHMENT_BYTES + 1))
    assert check_attachment("precis.txt", b"a" * MAX_ATTACHMENT_BYTES) == FileKind.txt


def test_a_filename_keeps_its_own_name_only():
    assert safe_filename("C:\\Users\\anna\\plan.pdf") == "plan.pdf"
    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("plan\x00\n.pdf") == "plan.pdf"
    long = safe_filename("a" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")
    with pytest.raises(Invalid):
        safe_filename("  ")


def test_an_upload_never_sent_is_kept_a_day_at_most():
    assert unsent_upload_age(timedelta(days=180)) == timedelta(days=1)
    assert unsent_upload_age(timedelta(hours=2)) == timedelta(hours=2)
