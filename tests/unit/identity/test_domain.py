"""Who may add and end which membership, and when a membership lets its person in
(services/identity/domain.py): pure rules, no database."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.identity import domain
from services.identity.domain import Window

ADMIN = Principal(sub="adam", name="Adam", role=Role.admin)
UNIT_ADMIN = Principal(sub="ulla", name="Ulla", role=Role.unit_admin, unit="solgarden")
TODAY = date(2026, 12, 2)


# --- who may grant what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_an_admin_may_grant_any_role(role: Role):
    domain.may_administer(ADMIN, role=role, unit="solgarden" if role.needs_unit else None)


@pytest.mark.parametrize("role", [Role.provider, Role.unit_admin])
def test_a_unit_admin_may_grant_provider_and_unit_admin_at_its_own_unit(role: Role):
    domain.may_administer(UNIT_ADMIN, role=role, unit="solgarden")


@pytest.mark.parametrize("role", [Role.provider, Role.unit_admin])
def test_a_unit_admin_may_not_grant_at_another_unit(role: Role):
    with pytest.raises(Forbidden) as caught:
        domain.may_administer(UNIT_ADMIN, role=role, unit="ekbacken")
    assert caught.value.code == "other_unit"


@pytest.mark.parametrize("role", [r for r in Role if not r.needs_unit])
def test_a_unit_admin_may_not_grant_a_municipal_role(role: Role):
    with pytest.raises(Forbidden) as caught:
        domain.may_administer(UNIT_ADMIN, role=role, unit=None)
    assert caught.value.code == "other_unit"  # such a role is at no unit, so not at its own
    with pytest.raises(Forbidden) as caught:
        domain.may_administer(UNIT_ADMIN, role=role, unit="solgarden")
    assert caught.value.code == "role_not_grantable"


@pytest.mark.parametrize("role", [Role.caseworker, Role.provider, Role.coordinator, Role.fee_admin])
def test_other_roles_grant_nothing(role: Role):
    caller = Principal(sub="x", name="X", role=role, unit="solgarden")
    with pytest.raises(Forbidden):
        domain.may_administer(caller, role=Role.provider, unit="solgarden")


def test_the_unit_list_is_for_its_unit_admin_and_admins():
    domain.may_list(ADMIN, unit="ekbacken")
    domain.may_list(UNIT_ADMIN, unit="solgarden")
    with pytest.raises(Forbidden, match="own unit"):
        domain.may_list(UNIT_ADMIN, unit="ekbacken")
    with pytest.raises(Forbidden):
        domain.may_list(
            Principal(sub="p", name="P", role=Role.provider, unit="solgarden"), unit="solgarden"
        )


# --- the unit of a role ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.provider, Role.unit_admin])
def test_a_unit_role_needs_a_unit(role: Role):
    with pytest.raises(Invalid) as caught:
        domain.check_unit(role, None)
    assert caught.value.code == "unit_required"
    assert domain.check_unit(role, "solgarden") == "solgarden"


@pytest.mark.parametrize("role", [r for r in Role if not r.needs_unit])
def test_a_municipal_role_takes_no_unit(role: Role):
    with pytest.raises(Invalid) as caught:
        domain.check_unit(role, "solgarden")
    assert caught.value.code == "unit_not_allowed"
    assert domain.check_unit(role, None) is None


# --- validity windows --------------------------------------------------------------------------


def test_a_window_is_current_from_its_first_through_its_last_day():
    window = Window(date(2026, 12, 1), date(2026, 12, 31))
    assert not window.current_on(date(2026, 11, 30))
    assert window.current_on(date(2026, 12, 1))
    assert window.current_on(date(2026, 12, 31))
    assert not window.current_on(date(2027, 1, 1))


def test_an_open_window_is_current_from_its_first_day_on():
    window = Window(date(2026, 12, 1), None)
    assert not window.current_on(date(2026, 11, 30))
    assert window.current_on(date(2099, 1, 1))


def test_a_window_that_ends_before_it_begins_is_refused():
    with pytest.raises(Invalid) as caught:
        domain.check_window(date(2026, 12, 2), date(2026, 12, 1))
    assert caught.value.code == "valid_to_before_from"
    assert domain.check_window(TODAY, TODAY) == Window(TODAY, TODAY)  # one day


@pytest.mark.parametrize(
    ("other", "overlaps"),
    [
        (Window(date(2026, 1, 1), date(2026, 11, 30)), False),
        (Window(date(2026, 1, 1), date(2026, 12, 1)), True),
        (Window(date(2027, 1, 1), None), False),
        (Window(date(2026, 12, 31), None), True),
        (Window(date(2020, 1, 1), None), True),
    ],
)
def test_a_person_holds_a_role_at_a_unit_once_at_a_time(other: Window, overlaps: bool):
    window = Window(date(2026, 12, 1), date(2026, 12, 31))
    if overlaps:
        with pytest.raises(Conflict) as caught:
            domain.check_no_overlap(window, [other])
        assert caught.value.code == "membership_exists"
    else:
        domain.check_no_overlap(window, [other])


# --- ending ------------------------------------------------------------------------------------


def test_a_membership_ends_on_the_day_given():
    ended = domain.check_end(Window(date(2026, 1, 1), None), date(2026, 12, 1), today=TODAY)
    assert ended == Window(date(2026, 1, 1), date(2026, 12, 1))
    assert not ended.current_on(TODAY)


def test_an_end_may_be_today_or_later_and_the_membership_lasts_through_it():
    ended = domain.check_end(Window(date(2026, 1, 1), None), TODAY, today=TODAY)
    assert ended.current_on(TODAY)


def test_an_end_before_the_first_day_is_refused():
    with pytest.raises(Invalid) as caught:
        domain.check_end(Window(date(2026, 12, 1), None), date(2026, 11, 30), today=TODAY)
    assert caught.value.code == "valid_to_before_from"


def test_a_membership_already_over_cannot_be_ended_again():
    with pytest.raises(Conflict) as caught:
        domain.check_end(Window(date(2026, 1, 1), date(2026, 6, 30)), date(2026, 6, 1), today=TODAY)
    assert caught.value.code == "membership_ended"


def test_an_end_brings_the_last_day_forward_never_later():
    window = Window(date(2026, 1, 1), date(2026, 12, 31))
    assert domain.check_end(window, date(2026, 12, 15), today=TODAY).valid_to == date(2026, 12, 15)
    with pytest.raises(Conflict) as caught:
        domain.check_end(window, date(2027, 1, 31), today=TODAY)
    assert caught.value.code == "membership_ends_earlier"


# --- signing in --------------------------------------------------------------------------------


def test_a_person_without_a_current_membership_is_told_so():
    with pytest.raises(NotFound) as caught:
        domain.check_any_current(0)
    assert caught.value.code == "no_membership"
    domain.check_any_current(1)


def test_a_token_only_for_a_role_and_unit_held_today():
    with pytest.raises(Forbidden) as caught:
        domain.check_token_membership(False, role=Role.provider, unit="ekbacken")
    assert caught.value.code == "membership_not_current"
    assert "provider at ekbacken" in caught.value.message
    domain.check_token_membership(True, role=Role.provider, unit="solgarden")
