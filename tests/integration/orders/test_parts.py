"""An order in parts, printed by part (issue 17, point 1; manual 3.1 "Klicka i de delar du
vill skriva ut"), against the real stack: posted parts come back, a printout holds the parts
asked for under their Swedish headings, a wrong part is a 422 that names it and stores
nothing, an order of text alone shows it as `other`, and reading and printing are audited."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

import pytest

from services.common.dates import today_in_stockholm
from services.common.temporal import payload_codec
from tests.integration import personal_data
from tests.integration.helpers import new_customer, new_order, new_unit
from tests.integration.test_personal_data import _payloads
from workflows.models import lifecycle_id

HEADINGS = {
    "decision": "<h2>Beslut</h2>",
    "customer": "<h2>Brukare</h2>",
    "contacts": "<h2>Kontaktpersoner</h2>",
    "needs": "<h2>Behov och mål</h2>",
    "other": "<h2>Övrigt</h2>",
}


def _parts(tag: str, decided: str) -> dict:
    """Parts as a caseworker writes them, with values of this test only (`tag`)."""
    return {
        "decision": {
            "intervention": "Särskilt boende för äldre",
            "legal_ground": "4 kap. 1 § SoL",
            "valid_from": decided,
        },
        "customer": {
            "address": {"street": f"Provgatan {tag}", "postal_code": "136 40", "city": "Haninge"},
            "phone": "070-174 06 05",
        },
        "contacts": [
            {"name": f"Karin Dotter{tag}", "relation": "Dotter", "phone": "070-174 06 06"},
            {"name": f"Per Godman{tag}", "relation": "God man", "phone": "+46 70 174 06 07"},
        ],
        "needs": [
            {
                "area": "self_care",
                "description": "Behöver hjälp med dusch morgon och kväll.",
                "goal": "Känner sig ren och välklädd.",
            },
            {
                "area": "community_life",
                "description": "Har sjungit i kör i hela sitt liv.",
                "goal": "Deltar i sångstunden varje vecka.",
            },
        ],
    }


@pytest.fixture
async def placed(http, as_) -> dict:
    """A unit, its provider, a customer, and the body of an order in parts for them."""
    unit = await new_unit(http, as_("admin"))
    caseworker = as_("caseworker")
    customer = await new_customer(http, caseworker, first_name="Elsa")
    tag = uuid.uuid4().hex[:6]
    decided = str(today_in_stockholm() - timedelta(days=2))
    body = {
        "customer_id": customer["id"],
        "unit_id": unit,
        "decision_date": decided,
        "text": "Tycker om att lyssna på radio.",
        "parts": _parts(tag, decided),
    }
    parts = body["parts"]
    personal_data.remember_also(
        customer,
        parts["customer"]["address"]["street"],
        parts["customer"]["phone"],
        *(c["name"] for c in parts["contacts"]),
        *(c["phone"] for c in parts["contacts"]),
    )
    return {
        "unit": unit,
        "caseworker": caseworker,
        "provider": as_("provider", unit=unit),
        "customer": customer,
        "body": body,
    }


async def _post(http, placed: dict, **changes) -> dict:
    response = await http.post(
        "/orders", json={**placed["body"], **changes}, headers=placed["caseworker"]
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_list_of_orders_leaves_their_parts_out(http, placed):
    """Addresses, contacts and needs are read one order at a time, not 500 at once."""
    order = await _post(http, placed)
    listed = await http.get("/orders", params={"status": "unconfirmed"}, headers=placed["provider"])
    assert listed.status_code == 200, listed.text
    mine = [o for o in listed.json() if o["id"] == order["id"]]
    assert len(mine) == 1 and mine[0]["parts"] is None
    assert placed["body"]["parts"]["customer"]["phone"] not in listed.text


async def test_an_order_posted_in_parts_reads_back_with_them(http, placed):
    order = await _post(http, placed)
    read = await http.get(f"/orders/{order['id']}", headers=placed["provider"])
    assert read.status_code == 200, read.text
    parts, posted, customer = read.json()["parts"], placed["body"]["parts"], placed["customer"]
    assert parts == order["parts"]
    assert parts["decision"] == {
        **posted["decision"],
        "decision_date": placed["body"]["decision_date"],
        "valid_to": None,
    }
    assert parts["customer"] == {
        "name": f"{customer['first_name']} {customer['last_name']}",
        "personnummer": customer["personnummer"],
        "customer_number": customer["customer_number"],
        **posted["customer"],
    }
    assert parts["contacts"] == posted["contacts"]
    assert parts["needs"] == posted["needs"]
    assert parts["other"] == "Tycker om att lyssna på radio." == read.json()["text"]


async def test_an_order_of_text_alone_shows_its_text_as_other(http, as_, placed):
    order = await new_order(
        http, placed["caseworker"], placed["customer"], placed["unit"], today_in_stockholm()
    )
    read = (await http.get(f"/orders/{order['id']}", headers=placed["provider"])).json()
    assert read["text"] == "Beviljas särskilt boende."
    assert read["parts"]["other"] == "Beviljas särskilt boende."
    assert read["parts"]["decision"] is None
    assert read["parts"]["contacts"] == [] and read["parts"]["needs"] == []
    assert read["parts"]["customer"]["address"] is None
    printed = await http.get(f"/orders/{order['id']}/print", headers=placed["provider"])
    assert printed.status_code == 200
    other = printed.text.split(HEADINGS["other"])[1]
    assert "Beviljas särskilt boende." in other


async def test_an_order_from_before_the_parts_reads_back_with_its_text_as_other(http, placed, pool):
    order = await _post(http, placed)
    async with pool.acquire() as conn:  # as the migration leaves an older order
        await conn.execute("UPDATE orders.orders SET parts = NULL WHERE id = $1", order["id"])
    read = (await http.get(f"/orders/{order['id']}", headers=placed["provider"])).json()
    assert read["parts"]["other"] == "Tycker om att lyssna på radio."
    assert read["parts"]["decision"] is None and read["parts"]["contacts"] == []


async def test_an_order_of_parts_alone_has_no_other(http, placed):
    body = {k: v for k, v in placed["body"].items() if k != "text"}
    response = await http.post("/orders", json=body, headers=placed["caseworker"])
    assert response.status_code == 201, response.text
    assert response.json()["parts"]["other"] is None and response.json()["text"] == ""


async def test_a_printout_of_decision_and_needs_holds_those_parts_alone(http, placed):
    order = await _post(http, placed)
    printed = await http.get(
        f"/orders/{order['id']}/print",
        params={"parts": "needs,decision"},
        headers=placed["provider"],
    )
    assert printed.status_code == 200, printed.text
    page = printed.text
    assert page.index(HEADINGS["decision"]) < page.index(HEADINGS["needs"])
    for part in ("customer", "contacts", "other"):
        assert HEADINGS[part] not in page, part
    assert "4 kap. 1 § SoL" in page and "Särskilt boende för äldre" in page
    assert "Personlig vård" in page and "Samhällsgemenskap, socialt och medborgerligt liv" in page
    assert "Känner sig ren och välklädd." in page
    customer, parts = placed["customer"], placed["body"]["parts"]
    pnr = customer["personnummer"]
    for absent in (
        f"{pnr[:8]}-{pnr[8:]}",
        customer["last_name"],
        parts["customer"]["address"]["street"],
        parts["contacts"][0]["name"],
        "Tycker om att lyssna på radio.",
    ):
        assert absent not in page, absent
    assert customer["customer_number"] in page  # which order it is, without the person


async def test_a_printout_of_every_part_holds_them_all(http, placed):
    order = await _post(http, placed)
    page = (await http.get(f"/orders/{order['id']}/print", headers=placed["provider"])).text
    positions = [page.index(heading) for heading in HEADINGS.values()]
    assert positions == sorted(positions)
    parts, pnr = placed["body"]["parts"], placed["customer"]["personnummer"]
    for shown in (
        f"{pnr[:8]}-{pnr[8:]}",
        f"{parts['customer']['address']['street']}, 136 40 Haninge",
        "070-174 06 05",
        parts["contacts"][1]["name"],
        "God man",
        "+46 70 174 06 07",
        "Tycker om att lyssna på radio.",
    ):
        assert shown in page, shown


@pytest.mark.parametrize("asked", ["decision,status", "beslut", ""])
async def test_a_printout_of_an_unknown_part_is_a_422_that_names_it(http, placed, asked, pool):
    order = await _post(http, placed)
    printed = await http.get(
        f"/orders/{order['id']}/print", params={"parts": asked}, headers=placed["provider"]
    )
    assert printed.status_code == 422
    error = printed.json()["error"]
    assert error["code"] == "unknown_part"
    assert repr(asked.split(",")[-1]) in error["message"]
    assert "decision, customer, contacts, needs, other" in error["message"]
    async with pool.acquire() as conn:  # refused before it was read: no print audited
        printed_rows = await conn.fetchval(
            "SELECT count(*) FROM orders.audit WHERE action = 'order.print' AND resource = $1",
            f"order:{order['id']}",
        )
    assert printed_rows == 0


def _with(parts: dict, path: tuple, value) -> dict:
    """`parts` with the value at `path` (keys and list indexes) replaced."""
    changed = copy.deepcopy(parts)
    at = changed
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    return changed


CONTACT = {"name": "Karin", "relation": "Dotter", "phone": "070-174 06 06"}
NEED = {"area": "domestic_life", "description": "Städning.", "goal": "Rent hemma."}


@pytest.mark.parametrize(
    ("path", "value", "loc", "says"),
    [
        (("needs", 0, "area"), "relationer", ["needs", 0, "area"], "Input should be"),
        (("contacts", 0, "name"), "   ", ["contacts", 0, "name"], "at least 1 character"),
        (
            ("contacts", 1, "name"),
            "Per\u202e Godman",
            ["contacts", 1, "name"],
            "U+202E at position 4",
        ),
        (
            ("needs", 1, "description"),
            "Sjunger\u2066 i kör",
            ["needs", 1, "description"],
            "U+2066",
        ),
        (("contacts",), [CONTACT] * 11, ["contacts"], "at most 10 items"),
        (("needs",), [NEED] * 21, ["needs"], "at most 20 items"),
        (("customer", "phone"), "070-ABC", ["customer", "phone"], "pattern"),
        (("decision", "valid_to"), "2026-01-01T10:00", ["decision", "valid_to"], "without a time"),
        (("decision", "lagrum"), "4 kap. 1 § SoL", ["decision", "lagrum"], "Extra inputs"),
    ],
)
async def test_a_wrong_part_is_a_422_naming_its_field_and_nothing_is_stored(
    http, placed, pool, path, value, loc, says
):
    body = {**placed["body"], "parts": _with(placed["body"]["parts"], path, value)}
    response = await http.post("/orders", json=body, headers=placed["caseworker"])
    assert response.status_code == 422, response.text
    details = response.json()["detail"]
    assert any(
        d["loc"][:2] == ["body", "parts"] and d["loc"][2:] == loc and says in d["msg"]
        for d in details
    ), details
    await _nothing_stored(pool, placed)


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "code"),
    [(-1, None, "valid_from_before_decision"), (5, 4, "valid_to_before_valid_from")],
)
async def test_a_decision_valid_before_its_date_is_a_422_and_nothing_is_stored(
    http, placed, pool, valid_from, valid_to, code
):
    decided = today_in_stockholm() - timedelta(days=2)
    decision = {
        **placed["body"]["parts"]["decision"],
        "valid_from": str(decided + timedelta(days=valid_from)),
        "valid_to": str(decided + timedelta(days=valid_to)) if valid_to else None,
    }
    parts = {**placed["body"]["parts"], "decision": decision}
    response = await http.post(
        "/orders", json={**placed["body"], "parts": parts}, headers=placed["caseworker"]
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code and "parts.decision.valid_" in error["message"]
    await _nothing_stored(pool, placed)


async def _nothing_stored(pool, placed: dict) -> None:
    async with pool.acquire() as conn:
        orders = await conn.fetchval(
            "SELECT count(*) FROM orders.orders WHERE customer_id = $1", placed["customer"]["id"]
        )
        outbox = await conn.fetchval(
            "SELECT count(*) FROM orders.outbox WHERE type = 'order.created' "
            "AND data->>'customer_id' = $1",
            placed["customer"]["id"],
        )
    assert (orders, outbox) == (0, 0)


async def test_reading_and_printing_an_order_in_parts_is_audited(http, placed, pool):
    order = await _post(http, placed)
    provider = placed["provider"]
    assert (await http.get(f"/orders/{order['id']}", headers=provider)).status_code == 200
    printed = await http.get(
        f"/orders/{order['id']}/print", params={"parts": "customer,contacts"}, headers=provider
    )
    assert printed.status_code == 200
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT action, actor_role, actor_unit, customer_id FROM orders.audit
               WHERE resource = $1 ORDER BY id""",
            f"order:{order['id']}",
        )
    assert [tuple(r) for r in rows] == [
        ("order.create", "caseworker", None, uuid.UUID(placed["customer"]["id"])),
        ("order.read", "provider", placed["unit"], uuid.UUID(placed["customer"]["id"])),
        ("order.print", "provider", placed["unit"], uuid.UUID(placed["customer"]["id"])),
    ]


async def test_another_units_provider_reads_no_parts(http, as_, placed):
    order = await _post(http, placed)
    other = as_("provider", unit=await new_unit(http, as_("admin")))
    for path in (f"/orders/{order['id']}", f"/orders/{order['id']}/print?parts=customer"):
        response = await http.get(path, headers=other)
        assert response.status_code == 404 and placed["body"]["parts"]["customer"]["phone"] not in (
            response.text
        )


async def test_the_parts_never_enter_the_orders_workflow(http, placed, temporal, settings):
    order = await _post(http, placed)
    handle = temporal.client.get_workflow_handle(lifecycle_id(order["id"]))
    await handle.query("status")  # the workflow has run its first task
    history = await handle.fetch_history()
    payloads = [p for event in history.events for p in _payloads(event)]
    decoded = await payload_codec(settings).decode(payloads)
    texts = [p.data.decode(errors="replace") for p in decoded]
    assert any(order["id"] in text for text in texts)  # decoded: the order's own input
    parts = placed["body"]["parts"]
    for value in (
        parts["customer"]["address"]["street"],
        parts["contacts"][0]["name"],
        parts["needs"][0]["description"],
        "4 kap. 1 § SoL",
    ):
        assert not any(value in text for text in texts), value
