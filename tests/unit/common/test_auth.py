"""JWT authentication and the error hierarchy (services/common/auth.py, errors.py)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.auth import Principal, Role, decode_token, issue_token
from services.common.errors import (
    Conflict,
    Forbidden,
    Invalid,
    LifecareError,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    error_for,
)
from services.common.settings import Settings

SECRET = "unit-test-secret-long-enough-for-hs256-and-for-hs512-0123456789abcdef"
OTHER_SECRET = "another-secret-that-is-also-long-enough-for-hs256"


def _settings(secret: str = SECRET, **overrides: object) -> Settings:
    return Settings(_env_file=None, env="test", jwt_secret=secret, **overrides)  # type: ignore[call-arg]


SETTINGS = _settings()


def _signed(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    """A token signed outside issue_token, to present claims it would never write."""
    return jwt.encode(claims, secret, algorithm=algorithm)


def _in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def _refusal(token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        decode_token(SETTINGS, token)
    assert caught.value.status == 401
    return caught.value


# --- round trip ----------------------------------------------------------------------------


def test_caseworker_token_decodes_to_the_same_caller() -> None:
    token = issue_token(SETTINGS, sub="karin", name="Karin Handläggare", role=Role.caseworker)
    assert decode_token(SETTINGS, token) == Principal(
        sub="karin", name="Karin Handläggare", role=Role.caseworker, unit=None
    )


def test_provider_token_carries_its_unit() -> None:
    token = issue_token(SETTINGS, sub="anna", name="Anna", role="provider", unit="unit-7")
    principal = decode_token(SETTINGS, token)
    assert principal == Principal(sub="anna", name="Anna", role=Role.provider, unit="unit-7")
    assert principal.provider_unit == "unit-7"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_survives_the_round_trip(role: Role) -> None:
    unit = "unit-1" if role.needs_unit else None
    token = issue_token(SETTINGS, sub="u", name="N", role=role.value, unit=unit)
    assert decode_token(SETTINGS, token).role == role


@given(
    sub=st.text(min_size=1, max_size=40).filter(str.strip),
    name=st.text(max_size=40),
    unit=st.text(min_size=1, max_size=20),
)
def test_any_subject_name_and_unit_round_trip(sub: str, name: str, unit: str) -> None:
    token = issue_token(SETTINGS, sub=sub, name=name, role=Role.provider, unit=unit)
    assert decode_token(SETTINGS, token) == Principal(
        sub=sub, name=name, role=Role.provider, unit=unit
    )


def test_token_lives_as_long_as_the_configured_ttl() -> None:
    settings = _settings(token_ttl="30m")
    before = datetime.now(UTC)
    token = issue_token(settings, sub="u", name="N", role=Role.admin)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    lifetime = datetime.fromtimestamp(exp, UTC) - before
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30, seconds=1)


def test_token_ttl_can_be_given_per_token() -> None:
    before = datetime.now(UTC)
    token = issue_token(SETTINGS, sub="u", name="N", role=Role.admin, ttl=timedelta(minutes=5))
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    lifetime = datetime.fromtimestamp(exp, UTC) - before
    assert timedelta(minutes=4) < lifetime <= timedelta(minutes=5, seconds=1)


def test_token_without_a_name_decodes_with_an_empty_name() -> None:
    token = _signed({"sub": "u", "role": "admin", "exp": _in_an_hour()})
    assert decode_token(SETTINGS, token).name == ""


# --- issuing refusals ----------------------------------------------------------------------


@pytest.mark.parametrize("unit", [None, ""])
def test_provider_token_without_a_unit_is_not_issued(unit: str | None) -> None:
    with pytest.raises(ValueError, match="a provider token needs a unit"):
        issue_token(SETTINGS, sub="anna", name="Anna", role=Role.provider, unit=unit)


def test_unit_admin_token_without_a_unit_is_not_issued() -> None:
    with pytest.raises(ValueError, match="a unit_admin token needs a unit"):
        issue_token(SETTINGS, sub="ulla", name="Ulla", role=Role.unit_admin)


def test_token_for_an_unknown_role_is_not_issued() -> None:
    with pytest.raises(ValueError, match="superuser"):
        issue_token(SETTINGS, sub="u", name="N", role="superuser")


# --- decoding refusals ---------------------------------------------------------------------


def test_expired_token_is_refused_as_expired() -> None:
    token = issue_token(SETTINGS, sub="u", name="N", role=Role.admin, ttl=timedelta(seconds=-1))
    refused = _refusal(token)
    assert refused.code == "token_expired"
    assert refused.message == "the token has expired"


def test_token_signed_with_another_secret_is_refused_as_invalid() -> None:
    forged = issue_token(_settings(OTHER_SECRET), sub="u", name="N", role=Role.admin)
    refused = _refusal(forged)
    assert refused.code == "token_invalid"
    assert refused.message == "the token is not valid"


def test_token_whose_claims_were_changed_after_signing_is_refused() -> None:
    token = issue_token(SETTINGS, sub="anna", name="Anna", role=Role.provider, unit="unit-7")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    tampered_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    tampered = f"{header}.{tampered_payload.decode()}.{signature}"
    assert _refusal(tampered).code == "token_invalid"


def test_unsigned_token_is_refused() -> None:
    unsigned = jwt.encode(
        {"sub": "u", "role": "admin", "exp": _in_an_hour()}, key=None, algorithm="none"
    )
    assert _refusal(unsigned).code == "token_invalid"


def test_token_signed_with_another_algorithm_is_refused() -> None:
    token = _signed({"sub": "u", "role": "admin", "exp": _in_an_hour()}, algorithm="HS512")
    assert _refusal(token).code == "token_invalid"


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "Bearer x.y.z"])
def test_text_that_is_not_a_token_is_refused_as_invalid(garbage: str) -> None:
    refused = _refusal(garbage)
    assert refused.code == "token_invalid"
    assert refused.message == "the token is not valid"


@pytest.mark.parametrize("missing", ["sub", "role", "exp"])
def test_token_missing_a_required_claim_is_refused(missing: str) -> None:
    claims: dict[str, object] = {"sub": "u", "role": "admin", "exp": _in_an_hour()}
    del claims[missing]
    assert _refusal(_signed(claims)).code == "token_invalid"


def test_token_with_an_unknown_role_is_refused_naming_the_role() -> None:
    token = _signed({"sub": "u", "role": "superuser", "exp": _in_an_hour()})
    refused = _refusal(token)
    assert refused.code == "token_invalid"
    assert refused.message == "unknown role 'superuser'"


@pytest.mark.parametrize("unit", [None, ""])
def test_provider_token_without_a_unit_is_refused(unit: str | None) -> None:
    claims: dict[str, object] = {"sub": "anna", "role": "provider", "exp": _in_an_hour()}
    if unit is not None:
        claims["unit"] = unit
    refused = _refusal(_signed(claims))
    assert refused.code == "token_invalid"
    assert refused.message == "a provider token must name its unit"


# --- the caller ----------------------------------------------------------------------------


def test_caller_with_one_of_the_required_roles_passes() -> None:
    Principal(sub="k", name="K", role=Role.caseworker).require(Role.caseworker, Role.admin)
    Principal(sub="a", name="A", role=Role.admin).require(Role.caseworker, Role.admin)


def test_caller_without_the_required_role_is_forbidden_and_told_which_role_is_needed() -> None:
    provider = Principal(sub="anna", name="Anna", role=Role.provider, unit="unit-7")
    with pytest.raises(Forbidden) as caught:
        provider.require(Role.caseworker, Role.admin)
    assert caught.value.status == 403
    assert caught.value.code == "forbidden"
    assert caught.value.message == "this needs the role caseworker, admin; you are provider"


def test_provider_is_limited_to_its_unit() -> None:
    assert Principal(sub="a", name="A", role=Role.provider, unit="unit-7").provider_unit == (
        "unit-7"
    )


@pytest.mark.parametrize("role", [r for r in Role if r != Role.provider])
def test_other_roles_see_every_unit_even_when_their_token_names_one(role: Role) -> None:
    token = issue_token(SETTINGS, sub="u", name="N", role=role, unit="unit-7")
    principal = decode_token(SETTINGS, token)
    assert principal.unit == "unit-7"
    assert principal.provider_unit is None


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_class", "status", "code"),
    [
        (LifecareError, 400, "bad_request"),
        (Unauthorized, 401, "unauthorized"),
        (Forbidden, 403, "forbidden"),
        (NotFound, 404, "not_found"),
        (Conflict, 409, "conflict"),
        (PayloadTooLarge, 413, "payload_too_large"),
        (UnsupportedMediaType, 415, "unsupported_media_type"),
        (Invalid, 422, "invalid"),
        (Unavailable, 503, "unavailable"),
    ],
)
def test_each_error_carries_its_status_and_default_code(
    error_class: type[LifecareError], status: int, code: str
) -> None:
    error = error_class("what went wrong")
    assert (error.status, error.code, error.message) == (status, code, "what went wrong")
    assert str(error) == "what went wrong"


def test_error_code_can_be_made_specific_without_changing_the_class_default() -> None:
    assert Conflict("x", code="order_confirmed").code == "order_confirmed"
    assert Conflict("x").code == "conflict"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (422, Invalid),
        (503, Unavailable),
    ],
)
def test_error_for_rebuilds_the_error_from_status_code_and_message(
    status: int, error_class: type[LifecareError]
) -> None:
    error = error_for(status, "order_confirmed", "cannot confirm an order that is confirmed")
    assert type(error) is error_class
    assert error.status == status
    assert error.code == "order_confirmed"
    assert error.message == "cannot confirm an order that is confirmed"


def test_error_for_an_unmapped_status_is_still_a_lifecare_error_with_its_code() -> None:
    error = error_for(400, "refused", "no")
    assert type(error) is LifecareError
    assert (error.status, error.code, error.message) == (400, "refused", "no")


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(413, PayloadTooLarge), (415, UnsupportedMediaType)],
)
def test_error_for_rebuilds_payload_and_media_type_errors_with_their_status(
    status: int, error_class: type[LifecareError]
) -> None:
    error = error_for(status, "too_big", "the file is over 10 MB")
    assert error.status == status
    assert type(error) is error_class


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"role": "provider", "unit": ["solbacken", "ekbacken"]}, "'unit' must be a string"),
        ({"role": "provider", "unit": {"id": "solbacken"}}, "'unit' must be a string"),
        ({"role": "admin", "unit": 7}, "'unit' must be a string"),
        ({"role": "provider", "unit": "u" * 65}, "'unit' is longer than 64"),
        ({"role": "admin", "sub": ""}, "'sub' is empty"),
        ({"role": "admin", "sub": "   "}, "'sub' is empty"),
        ({"role": "admin", "sub": 42}, "'sub' must be a string"),
        ({"role": "admin", "sub": "s" * 256}, "'sub' is longer than 255"),
        ({"role": "admin", "name": "n" * 201}, "'name' is longer than 200"),
        ({"role": "admin", "name": ["Adam"]}, "'name' must be a string"),
        ({"role": ["admin"]}, "unknown role"),
    ],
)
def test_malformed_claims_are_refused_with_the_reason(claims: dict, reason: str) -> None:
    token = _signed({"sub": "adam", "exp": datetime.now(UTC) + timedelta(minutes=5), **claims})
    with pytest.raises(Unauthorized) as refused:
        decode_token(SETTINGS, token)
    assert reason in refused.value.message
