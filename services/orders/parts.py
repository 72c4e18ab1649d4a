"""The parts of an order (manual 3.1: "Klicka i de delar du vill skriva ut"): their names,
Socialstyrelsen's IBIC life areas, and the rules that need more than one field. Pure, no I/O."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from services.common.errors import Invalid

PART_NAMES: tuple[str, ...] = ("decision", "customer", "contacts", "needs", "other")
"""Every part an order has, in the order a printout shows them."""

PART_HEADINGS: dict[str, str] = {
    "decision": "Beslut",
    "customer": "Brukare",
    "contacts": "Kontaktpersoner",
    "needs": "Behov och mål",
    "other": "Övrigt",
}

MAX_CONTACTS = 10
MAX_NEEDS = 20


class LifeArea(StrEnum):
    """IBIC's nine life areas and its two further categories (Socialstyrelsen, after ICF)."""

    learning = "learning"
    general_tasks = "general_tasks"
    communication = "communication"
    mobility = "mobility"
    self_care = "self_care"
    domestic_life = "domestic_life"
    relations = "relations"
    major_life_areas = "major_life_areas"
    community_life = "community_life"
    safety = "safety"
    carer_support = "carer_support"


LIFE_AREAS_SV: dict[LifeArea, str] = {
    LifeArea.learning: "Lärande och att tillämpa kunskap",
    LifeArea.general_tasks: "Allmänna uppgifter och krav",
    LifeArea.communication: "Kommunikation",
    LifeArea.mobility: "Förflyttning",
    LifeArea.self_care: "Personlig vård",
    LifeArea.domestic_life: "Hemliv",
    LifeArea.relations: "Mellanmänskliga interaktioner och relationer",
    LifeArea.major_life_areas: "Utbildning, arbete, sysselsättning och ekonomiskt liv",
    LifeArea.community_life: "Samhällsgemenskap, socialt och medborgerligt liv",
    LifeArea.safety: "Känsla av trygghet",
    LifeArea.carer_support: "Personligt stöd från person som vårdar eller stödjer en närstående",
}


def parts_to_print(asked: str | None) -> tuple[str, ...]:
    """The parts a `?parts=decision,needs` asks for, in the printout's order; every part
    when none is asked for. An unknown or empty name is a 422 that lists the known ones."""
    if asked is None:
        return PART_NAMES
    names = [name.strip() for name in asked.split(",")]
    unknown = [name for name in names if name not in PART_NAMES]
    if unknown:
        shown = ", ".join(repr(name) for name in unknown)
        raise Invalid(
            f"parts: {shown} is no part of an order; the parts are {', '.join(PART_NAMES)}",
            code="unknown_part",
        )
    return tuple(name for name in PART_NAMES if name in names)


def check_decision(*, decision_date: date, valid_from: date, valid_to: date | None) -> None:
    """A decision is valid from its decision date or later, and until no earlier than that."""
    if valid_from < decision_date:
        raise Invalid(
            f"parts.decision.valid_from {valid_from} is before the decision_date {decision_date}",
            code="valid_from_before_decision",
        )
    if valid_to is not None and valid_to < valid_from:
        raise Invalid(
            f"parts.decision.valid_to {valid_to} is before valid_from {valid_from}",
            code="valid_to_before_valid_from",
        )
