"""The identity service's rules: who may add and end which membership, and when a
membership is current. Pure functions over plain values; no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.auth import UNIT_ROLES, Principal, Role
from services.common.errors import Conflict, Forbidden, Invalid, NotFound

# what a unit's access administrator may hand out at its own unit (manual 1.2)
UNIT_ADMIN_GRANTS = frozenset(UNIT_ROLES)


@dataclass(frozen=True)
class Window:
    """The days a membership is valid: `valid_from` through `valid_to`, both inclusive
    (calendar dates in Europe/Stockholm); `valid_to` None is open-ended."""

    valid_from: date
    valid_to: date | None

    def current_on(self, day: date) -> bool:
        """Whether the membership lets its person in on `day`."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def over_on(self, day: date) -> bool:
        """Whether the membership has ended before `day`."""
        return self.valid_to is not None and self.valid_to < day

    def overlaps(self, other: Window) -> bool:
        return (other.valid_to is None or self.valid_from <= other.valid_to) and (
            self.valid_to is None or other.valid_from <= self.valid_to
        )


def check_unit(role: Role, unit: str | None) -> str | None:
    """The unit a membership of `role` is at: provider and unit_admin need one, the other
    roles work for the whole municipality and take none (422)."""
    if role in UNIT_ROLES and not unit:
        raise Invalid(f"a {role.value} membership needs a unit", code="unit_required")
    if role not in UNIT_ROLES and unit is not None:
        raise Invalid(
            f"a {role.value} membership is not at a unit; leave out unit", code="unit_not_allowed"
        )
    return unit


def check_window(valid_from: date, valid_to: date | None) -> Window:
    """A validity window whose last day is not before its first (422)."""
    if valid_to is not None and valid_to < valid_from:
        raise Invalid(
            f"valid_to {valid_to} is before valid_from {valid_from}", code="valid_to_before_from"
        )
    return Window(valid_from, valid_to)


def may_administer(caller: Principal, *, role: Role, unit: str | None) -> None:
    """Refuse (403) unless the caller may add or end a membership of `role` at `unit`: an
    admin any; a unit_admin only provider and unit_admin memberships of its own unit."""
    if caller.role == Role.admin:
        return
    if caller.role != Role.unit_admin:
        raise Forbidden(f"this needs the role admin or unit_admin; you are {caller.role}")
    if unit != caller.unit:
        raise Forbidden(
            "a unit_admin administers the memberships of its own unit only",
            code="other_unit",
        )
    if role not in UNIT_ADMIN_GRANTS:
        raise Forbidden(
            f"a unit_admin may grant only provider and unit_admin at its unit, not {role.value}",
            code="role_not_grantable",
        )


def may_list(caller: Principal, *, unit: str) -> None:
    """Refuse (403) unless the caller may see who has access to `unit`: an admin, or the
    unit's own unit_admin."""
    if caller.role == Role.admin:
        return
    if caller.role != Role.unit_admin:
        raise Forbidden(f"this needs the role admin or unit_admin; you are {caller.role}")
    if unit != caller.unit:
        raise Forbidden("a unit_admin sees the memberships of its own unit only", code="other_unit")


def check_no_overlap(window: Window, others: list[Window]) -> None:
    """The person holds the role at the unit once at a time (409)."""
    for other in others:
        if window.overlaps(other):
            until = other.valid_to or "further notice"
            raise Conflict(
                f"the person already has this role at this unit from {other.valid_from} "
                f"until {until}",
                code="membership_exists",
            )


def check_end(window: Window, valid_to: date, *, today: date) -> Window:
    """The window a membership has once ended on `valid_to` (its last day): not before it
    began (422), not of a membership already over (409), and never later than an end it
    already has (409: an end brings the last day forward, it does not extend access)."""
    if window.over_on(today):
        raise Conflict(f"the membership ended on {window.valid_to}", code="membership_ended")
    if valid_to < window.valid_from:
        raise Invalid(
            f"valid_to {valid_to} is before valid_from {window.valid_from}",
            code="valid_to_before_from",
        )
    if window.valid_to is not None and valid_to > window.valid_to:
        raise Conflict(
            f"the membership already ends on {window.valid_to}; an end can only come earlier",
            code="membership_ends_earlier",
        )
    return Window(window.valid_from, valid_to)


def check_any_current(count: int) -> None:
    """A person with no current membership has no way in: 404 `no_membership`, which the
    web UI shows as a page saying so."""
    if count == 0:
        raise NotFound("the person has no current membership", code="no_membership")


def check_token_membership(found: bool, *, role: Role, unit: str | None) -> None:
    """A token is issued only for a role (and unit) the person holds today (403)."""
    if not found:
        where = f" at {unit}" if unit else ""
        raise Forbidden(
            f"the person holds no current membership as {role.value}{where}",
            code="membership_not_current",
        )
