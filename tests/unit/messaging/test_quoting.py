"""A reply quotes a bounded excerpt of its original, so a thread's bodies do not grow."""

from __future__ import annotations

from datetime import UTC, datetime

from services.messaging.domain import QUOTED_CHARS, quoted

AT = datetime(2026, 3, 1, 13, 5, tzinfo=UTC)


def _reply(text: str, original: str) -> str:
    return quoted(
        text, body=original, sender_name="Bo", sent_at=AT, recipients=["Anna"], subject="Plan"
    )


def test_a_long_original_is_quoted_in_part_and_says_so():
    body = _reply("Tack!", "x" * 20_000)
    assert body.startswith("Tack!\n\n----- Ursprungligt meddelande -----\n")
    assert body.endswith("x" * QUOTED_CHARS + "\n[…]")
    assert body.count("x") == QUOTED_CHARS


def test_a_short_original_is_quoted_whole():
    assert _reply("Tack!", "Se bilagan.").endswith("Ämne: Plan\n\nSe bilagan.")


def test_twenty_replies_to_replies_stay_bounded():
    body = "y" * 20_000
    for turn in range(20):
        body = _reply(f"Svar {turn}: " + "z" * 20_000, body)
        assert len(body) < 20_000 + QUOTED_CHARS + 200
