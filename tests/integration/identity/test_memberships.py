"""The identity service against the real database: who may add and end memberships, the
unit's list, the audit rows, and the platform's tokens that the other services accept."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx
import jwt

from services.common.dates import today_in_stockholm
from tests.integration.helpers import new_unit


def _sub() -> str:
    return f"idp|{uuid.uuid4().hex[:12]}"


async def _add(identity: httpx.AsyncClient, headers: dict, **body) -> httpx.Response:
    body.setdefault("sub", _sub())
    body.setdefault("name", "Anna Andersson")
    return await identity.post("/memberships", json=body, headers=headers)


async def _token(identity, web_ui, **body) -> httpx.Response:
    return await identity.post("/tokens", json=body, headers=web_ui)


async def _bearer(identity, web_ui, **body) -> dict[str, str]:
    response = await _token(identity, web_ui, **body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _audit(pool: asyncpg.Pool, membership_id: str) -> list[tuple]:
    rows = await pool.fetch(
        """SELECT action, actor_sub, actor_role, actor_unit, request_id FROM identity.audit
           WHERE resource LIKE '%membership:' || $1 ORDER BY id""",
        membership_id,
    )
    return [tuple(row) for row in rows]


async def _unit_admin(identity, web_ui, as_, unit: str) -> tuple[str, dict[str, str]]:
    """A unit_admin of `unit`, added by an admin, signed in with a platform token."""
    sub = _sub()
    added = await _add(
        identity, as_("admin"), sub=sub, name="Ulla Admin", role="unit_admin", unit=unit
    )
    assert added.status_code == 201, added.text
    return sub, await _bearer(identity, web_ui, sub=sub, role="unit_admin", unit=unit)


async def test_a_unit_admin_adds_staff_to_its_unit_and_every_change_is_audited(
    identity, web_ui, as_, http, pool
):
    unit = await new_unit(http, as_("admin"))
    admin_sub, unit_admin = await _unit_admin(identity, web_ui, as_, unit)

    added = await _add(identity, unit_admin, role="provider", unit=unit, name="Anna Andersson")
    assert added.status_code == 201, added.text
    membership = added.json()
    assert (membership["role"], membership["unit"], membership["current"]) == (
        "provider",
        unit,
        True,
    )
    assert membership["valid_from"] == str(today_in_stockholm())
    assert membership["created_by"] == admin_sub
    [(action, actor, role, actor_unit, request_id)] = await _audit(pool, membership["id"])
    assert (action, actor, role, actor_unit) == ("membership.add", admin_sub, "unit_admin", unit)
    assert request_id == added.headers["x-request-id"]

    ended = await identity.post(
        f"/memberships/{membership['id']}/end",
        json={"valid_to": str(today_in_stockholm())},
        headers=unit_admin,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_by"] == admin_sub
    assert [a[0] for a in await _audit(pool, membership["id"])] == [
        "membership.add",
        "membership.end",
    ]


async def test_a_unit_admin_of_another_unit_is_refused_and_nothing_is_written(
    identity, web_ui, as_, http, pool
):
    admin = as_("admin")
    mine, other = await new_unit(http, admin), await new_unit(http, admin)
    _, unit_admin = await _unit_admin(identity, web_ui, as_, mine)
    sub = _sub()

    elsewhere = await _add(identity, unit_admin, sub=sub, role="provider", unit=other)
    municipal = await _add(identity, unit_admin, sub=sub, role="caseworker")
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (403, "other_unit")
    assert municipal.status_code == 403
    assert not await pool.fetchval("SELECT count(*) FROM identity.memberships WHERE sub = $1", sub)

    theirs = await _add(identity, admin, role="provider", unit=other)
    assert theirs.status_code == 201
    end = await identity.post(
        f"/memberships/{theirs.json()['id']}/end",
        json={"valid_to": str(today_in_stockholm())},
        headers=unit_admin,
    )
    listed = await identity.get(f"/units/{other}/memberships", headers=unit_admin)
    assert (end.status_code, listed.status_code) == (403, 403)
    assert [a[0] for a in await _audit(pool, theirs.json()["id"])] == ["membership.add"]


async def test_the_units_page_lists_who_has_access(identity, web_ui, as_, http):
    admin = as_("admin")
    unit = await new_unit(http, admin)
    admin_sub, unit_admin = await _unit_admin(identity, web_ui, as_, unit)
    today = today_in_stockholm()
    now = await _add(identity, admin, role="provider", unit=unit, name="Berit Nu")
    later = await _add(
        identity,
        admin,
        role="provider",
        unit=unit,
        name="Cecilia Sedan",
        valid_from=str(today + timedelta(days=10)),
    )
    gone = await _add(
        identity,
        admin,
        role="provider",
        unit=unit,
        name="Dora Förr",
        valid_from=str(today - timedelta(days=30)),
        valid_to=str(today - timedelta(days=1)),
    )
    assert {r.status_code for r in (now, later, gone)} == {201}

    listed = await identity.get(f"/units/{unit}/memberships", headers=unit_admin)
    assert listed.status_code == 200, listed.text
    seen = {(m["name"], m["role"], m["current"]) for m in listed.json()}
    assert seen == {
        ("Ulla Admin", "unit_admin", True),
        ("Berit Nu", "provider", True),
        ("Cecilia Sedan", "provider", False),
    }
    by_admin = await identity.get(f"/units/{unit}/memberships", headers=admin)
    by_provider = await identity.get(
        f"/units/{unit}/memberships", headers=as_("provider", unit=unit)
    )
    assert (by_admin.status_code, by_provider.status_code) == (200, 403)
    assert admin_sub in {m["sub"] for m in by_admin.json()}


async def test_the_same_role_at_the_same_unit_twice_at_once_is_a_409(identity, as_, http):
    admin, sub = as_("admin"), _sub()
    unit = await new_unit(http, admin)
    assert (await _add(identity, admin, sub=sub, role="provider", unit=unit)).status_code == 201
    again = await _add(identity, admin, sub=sub, role="provider", unit=unit)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "membership_exists")


async def test_a_unit_role_without_a_unit_and_a_municipal_role_with_one_are_422(identity, as_):
    admin = as_("admin")
    no_unit = await _add(identity, admin, role="provider")
    with_unit = await _add(identity, admin, role="caseworker", unit="solgarden")
    assert (no_unit.status_code, no_unit.json()["error"]["code"]) == (422, "unit_required")
    assert (with_unit.status_code, with_unit.json()["error"]["code"]) == (422, "unit_not_allowed")


# --- signing in: the person's memberships and the platform's tokens ---------------------------


async def test_the_web_ui_reads_a_persons_current_memberships(identity, web_ui, as_, http):
    admin, sub = as_("admin"), _sub()
    first, second = await new_unit(http, admin), await new_unit(http, admin)
    for unit in (first, second):
        assert (await _add(identity, admin, sub=sub, role="provider", unit=unit)).status_code == 201
    assert (await _add(identity, admin, sub=sub, role="coordinator")).status_code == 201

    held = await identity.get(f"/people/{sub}/memberships", headers=web_ui)
    assert held.status_code == 200, held.text
    assert held.json()["name"] == "Anna Andersson"
    assert sorted((m["role"], m["unit"] or "") for m in held.json()["memberships"]) == sorted(
        [("provider", first), ("provider", second), ("coordinator", "")]
    )

    anonymous = await identity.get(f"/people/{sub}/memberships")
    with_a_token = await identity.get(f"/people/{sub}/memberships", headers=admin)
    assert (anonymous.status_code, with_a_token.status_code) == (401, 401)
    assert anonymous.json()["error"]["code"] == "client_unauthorized"


async def test_a_person_without_a_current_membership_gets_no_membership(
    identity, web_ui, as_, http
):
    admin, today = as_("admin"), today_in_stockholm()
    unknown = await identity.get(f"/people/{_sub()}/memberships", headers=web_ui)
    sub = _sub()
    ended = await _add(
        identity,
        admin,
        sub=sub,
        role="caseworker",
        valid_from=str(today - timedelta(days=30)),
        valid_to=str(today - timedelta(days=1)),
    )
    assert ended.status_code == 201
    former = await identity.get(f"/people/{sub}/memberships", headers=web_ui)
    for answer in (unknown, former):
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "no_membership")


async def test_a_token_for_the_chosen_role_and_unit_is_accepted_by_the_services(
    identity, web_ui, as_, http, pool
):
    admin, sub = as_("admin"), _sub()
    unit = await new_unit(http, admin)
    added = await _add(identity, admin, sub=sub, role="provider", unit=unit, name="Anna A")
    assert added.status_code == 201

    issued = await _token(identity, web_ui, sub=sub, role="provider", unit=unit)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert (claims["sub"], claims["name"], claims["role"], claims["unit"]) == (
        sub,
        "Anna A",
        "provider",
        unit,
    )
    assert (claims["iss"], claims["aud"]) == ("lifecare", "lifecare-services")

    jwks = await identity.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert header["kid"] in {key["kid"] for key in jwks.json()["keys"]}

    # the orders service fetches the JWKS from the identity service and takes the token
    orders = await http.get("/orders", headers={"Authorization": f"Bearer {token}"})
    assert orders.status_code == 200, orders.text
    [(_, actor, role, actor_unit, _)] = [
        a for a in await _audit(pool, added.json()["id"]) if a[0] == "token.issue"
    ]
    assert (actor, role, actor_unit) == (sub, "provider", unit)


async def test_no_token_for_a_role_or_unit_the_person_does_not_hold(identity, web_ui, as_, http):
    admin, sub = as_("admin"), _sub()
    mine, other = await new_unit(http, admin), await new_unit(http, admin)
    assert (await _add(identity, admin, sub=sub, role="provider", unit=mine)).status_code == 201
    wrong_unit = await _token(identity, web_ui, sub=sub, role="provider", unit=other)
    wrong_role = await _token(identity, web_ui, sub=sub, role="admin")
    for answer in (wrong_unit, wrong_role):
        assert (answer.status_code, answer.json()["error"]["code"]) == (
            403,
            "membership_not_current",
        )
    no_credential = await _token(identity, {}, sub=sub, role="provider", unit=mine)
    assert no_credential.status_code == 401


async def test_an_ended_membership_gets_no_more_tokens(identity, web_ui, as_, http):
    admin, sub, today = as_("admin"), _sub(), today_in_stockholm()
    unit = await new_unit(http, admin)
    added = await _add(
        identity,
        admin,
        sub=sub,
        role="provider",
        unit=unit,
        valid_from=str(today - timedelta(days=30)),
    )
    assert (await _token(identity, web_ui, sub=sub, role="provider", unit=unit)).status_code == 200

    ended = await identity.post(
        f"/memberships/{added.json()['id']}/end",
        json={"valid_to": str(today - timedelta(days=1))},
        headers=admin,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["current"] is False
    refused = await _token(identity, web_ui, sub=sub, role="provider", unit=unit)
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "no_membership")
    again = await identity.post(
        f"/memberships/{added.json()['id']}/end",
        json={"valid_to": str(today - timedelta(days=2))},
        headers=admin,
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "membership_ended")


async def test_a_unit_admin_token_reads_no_customers(identity, web_ui, as_, http):
    unit = await new_unit(http, as_("admin"))
    _, unit_admin = await _unit_admin(identity, web_ui, as_, unit)
    customers = await http.get("/customers", params={"q": "Test"}, headers=unit_admin)
    orders = await http.get("/orders", headers=unit_admin)
    assert (customers.status_code, orders.status_code) == (403, 403)
