"""A signed-in person, with which roles at which units.

Signed in through the OpenID Connect provider, a Person is what the identity service says
of them (tokens.Identity.person). Only without a provider configured (development and unit
tests; production refuses to start so) are these the demo people below, chosen by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.auth import Role


@dataclass(frozen=True)
class Membership:
    """A role a person has, at a unit when the role works for one."""

    role: Role
    unit: str | None = None

    @property
    def key(self) -> str:
        return f"{self.role.value}:{self.unit or ''}"

    @classmethod
    def from_key(cls, key: str) -> Membership:
        role, _, unit = key.partition(":")
        return cls(Role(role), unit or None)


@dataclass(frozen=True)
class Person:
    sub: str
    name: str
    memberships: tuple[Membership, ...]

    def roles(self) -> list[Role]:
        """The person's roles, each once, in the order given."""
        return list(dict.fromkeys(m.role for m in self.memberships))

    def units(self, role: Role) -> list[str]:
        return [m.unit for m in self.memberships if m.role == role and m.unit]


DEMO_PEOPLE: tuple[Person, ...] = (
    Person(
        "anna",
        "Anna Andersson",
        (Membership(Role.provider, "solbacken"), Membership(Role.provider, "ekbacken")),
    ),
    Person("cecilia", "Cecilia Berg", (Membership(Role.caseworker),)),
    Person("bo", "Bo Samuelsson", (Membership(Role.coordinator),)),
    Person("frida", "Frida Lund", (Membership(Role.fee_admin),)),
    Person("adam", "Adam Nilsson", (Membership(Role.admin),)),
)


class People:
    """The people who may sign in, by user name (the demo people unless told others)."""

    def __init__(self, people: tuple[Person, ...] = DEMO_PEOPLE) -> None:
        self.shown = people  # offered on the development sign-in page
        self._by_sub = {p.sub: p for p in people}

    def add(self, person: Person) -> None:
        """One more person (tests give each their own people at their own units)."""
        self._by_sub[person.sub] = person

    def find(self, user: str) -> Person | None:
        """The person of this user name, if there is one."""
        return self._by_sub.get(user.strip().lower())
