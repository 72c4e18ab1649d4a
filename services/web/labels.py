"""The Swedish names of the platform's codes: statuses, reasons, kinds (web UI only; the
services speak codes)."""

from __future__ import annotations

from services.web.i18n import gettext_noop as N_

ORDER_STATUSES = {
    "unconfirmed": N_("Ej bekräftad"),
    "confirmed": N_("Bekräftad"),
    "ongoing": N_("Pågående"),
    "ended": N_("Avslutad"),
    "withdrawn": N_("Återkallad"),
}
SERVICES = {"sol_boende": N_("SoL – Boende")}
END_REASONS = {
    "deceased": N_("Avliden"),
    "moved_other_housing": N_("Flyttat till annat boende"),
    "moved_home": N_("Flyttat hem"),
    "other": N_("Annan orsak"),
}
ABSENCE_REASONS = {
    "hospital": N_("Sjukhusvistelse"),
    "short_term_care": N_("Korttidsvistelse"),
    "relatives": N_("Hos anhöriga"),
    "vacation": N_("Semester"),
    "other": N_("Annan orsak"),
}
# Socialstyrelsen's IBIC: its nine life areas and two further categories (the orders API's codes)
LIFE_AREAS = {
    "learning": N_("Lärande och att tillämpa kunskap"),
    "general_tasks": N_("Allmänna uppgifter och krav"),
    "communication": N_("Kommunikation"),
    "mobility": N_("Förflyttning"),
    "self_care": N_("Personlig vård"),
    "domestic_life": N_("Hemliv"),
    "relations": N_("Mellanmänskliga interaktioner och relationer"),
    "major_life_areas": N_("Utbildning, arbete, sysselsättning och ekonomiskt liv"),
    "community_life": N_("Samhällsgemenskap, socialt och medborgerligt liv"),
    "safety": N_("Känsla av trygghet"),
    "carer_support": N_("Personligt stöd från person som vårdar eller stödjer en närstående"),
}
INVOICE_STATUSES = {"issued": N_("Utställd"), "held": N_("Vilande")}
INVOICE_LINES = {
    "food": N_("Kost"),
    "care": N_("Omvårdnad"),
    "food_correction": N_("Rättelse kost"),
    "care_correction": N_("Rättelse omvårdnad"),
}
TARIFF_KINDS = {"food": N_("Kost per månad"), "care_max": N_("Maxtaxa omvårdnad per månad")}
RUN_STATUSES = {
    "running": N_("Pågår"),
    "completed": N_("Klar"),
    "failed": N_("Misslyckades"),
}

ALL = {
    "order_statuses": ORDER_STATUSES,
    "order_services": SERVICES,
    "end_reasons": END_REASONS,
    "life_areas": LIFE_AREAS,
    "absence_reasons": ABSENCE_REASONS,
    "invoice_statuses": INVOICE_STATUSES,
    "invoice_lines": INVOICE_LINES,
    "tariff_kinds": TARIFF_KINDS,
    "run_statuses": RUN_STATUSES,
}
