"""The shared body values: texts trimmed before they are checked, no control characters or
bidirectional overrides, dates without a time, booleans that are JSON's own."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from services.common.text import Body, Day, Flag, FreeText, Name, Subject


class Form(BaseModel):
    name: Name = "Sven"
    subject: Subject = "Ämne"
    text: FreeText = "Text"
    body: Body = ""
    day: Day = date(2026, 1, 1)
    sure: Flag = True


def _refusal(**fields: object) -> str:
    """The one error of a JSON body holding `fields`, as `field: message`."""
    with pytest.raises(ValidationError) as caught:
        Form.model_validate_json(json.dumps(fields))
    [error] = caught.value.errors()
    return f"{error['loc'][0]}: {error['msg']}"


def test_names_and_subjects_are_trimmed_before_they_are_checked():
    form = Form.model_validate({"name": "  Sven  ", "subject": "\tHej ", "text": " rad\n"})
    assert (form.name, form.subject, form.text) == ("Sven", "Hej", "rad")
    assert _refusal(name="   ") == "name: String should have at least 1 character"
    assert _refusal(subject=" \n ") == "subject: String should have at least 1 character"
    assert _refusal(text="  ") == "text: String should have at least 1 character"
    assert _refusal(name=" " + "a" * 101) == "name: String should have at most 100 characters"


@pytest.mark.parametrize("char", ["\u202a", "\u202e", "\u2066", "\u2069", "\x00", "\x1b", "\x85"])
def test_control_characters_and_bidi_overrides_are_refused_everywhere(char):
    for field in ("name", "subject", "text", "body"):
        refusal = _refusal(**{field: f"Faktura{char}fdp.exe"})
        assert refusal == (
            f"{field}: Value error, may not hold a control character or a bidirectional "
            f"override (U+{ord(char):04X} at position 8)"
        )


def test_lines_are_fine_in_free_text_but_not_in_a_name_or_subject():
    form = Form.model_validate({"text": "rad 1\nrad 2\r\n\tindrag", "body": "a\nb"})
    assert form.text == "rad 1\nrad 2\r\n\tindrag"
    assert _refusal(name="Sven\nBerg").startswith("name: Value error, may not hold a control")
    assert _refusal(subject="a\tb").startswith("subject: Value error, may not hold a control")


@pytest.mark.parametrize(
    "text",
    ["2026-01-01T10:00", "2026-01-01T00:00:00", "2026-01-01+01:00", "20260101", "1767225600"],
)
def test_a_date_with_a_time_or_an_offset_is_refused_not_cut(text):
    assert _refusal(day=text) == (
        "day: Value error, a date as YYYY-MM-DD, without a time or an offset"
    )


def test_a_date_as_a_number_is_refused():
    assert _refusal(day=1767225600).startswith("day: Value error, a date as YYYY-MM-DD")


def test_a_calendar_date_is_read():
    assert Form.model_validate_json('{"day": "2026-02-28"}').day == date(2026, 2, 28)
    assert _refusal(day="2026-02-30").startswith("day: Input should be a valid date")


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "1", None])
def test_only_json_true_and_false_are_booleans(value):
    assert _refusal(sure=value) == "sure: Input should be a valid boolean"


def test_the_openapi_schema_still_says_date():
    schema = Form.model_json_schema()["properties"]["day"]
    assert (schema["type"], schema["format"]) == ("string", "date")
