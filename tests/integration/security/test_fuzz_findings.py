"""What the fuzzer found, kept as plain tests: each input once answered 500."""

from __future__ import annotations


async def test_a_nul_character_in_a_text_is_a_422_not_a_500(http, as_):
    # schemathesis: POST /units {"name": "â\U000e5209\x00$", "id": "000…0"} answered 500
    # (PostgreSQL text cannot hold NUL: asyncpg's CharacterNotInRepertoireError)
    unit = await http.post(
        "/units", json={"id": "nul-unit", "name": "Gård\x00en"}, headers=as_("admin")
    )
    # refused at the edge now, as every control character in a name is (issue 14, point 8)
    assert unit.status_code == 422
    assert [e["loc"][-1] for e in unit.json()["detail"]] == ["name"]
    search = await http.get("/customers", params={"q": "Gre\x00ta"}, headers=as_("caseworker"))
    assert search.status_code == 422
    units = await http.get("/units", headers=as_("admin"))
    assert "nul-unit" not in [u["id"] for u in units.json()]
