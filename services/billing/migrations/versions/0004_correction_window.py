"""Months a run did not correct because they lie before its correction window.

A run corrects the months from `correct_from` (setting `LIFECARE_BILLING_CORRECTION_MONTHS`
before the month it bills) up to that month. An older month whose fees the rules now give
differently is not corrected: it is kept here, one row per customer, month and fee, with
what the rules give, what was billed and the difference, so a fee administrator sees what
was left uncorrected and decides by hand. The run counts its customer-months.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("""
    ALTER TABLE billing.billing_runs
        ADD COLUMN correct_from date CHECK (extract(day FROM correct_from) = 1),
        ADD COLUMN uncorrected  integer NOT NULL DEFAULT 0;
    CREATE TABLE billing.uncorrected (
        run_id          uuid NOT NULL,
        customer_id     uuid NOT NULL,
        customer_number text NOT NULL,
        period          date NOT NULL,   -- the month not corrected
        fee             text NOT NULL CHECK (fee IN ('food', 'care')),
        due             bigint NOT NULL, -- what the rules give for it today
        billed_before   bigint NOT NULL, -- what its lines billed
        difference      bigint NOT NULL, -- due - billed_before: what a correction would be
        PRIMARY KEY (run_id, customer_number, period, fee, customer_id)
    );
    CREATE INDEX uncorrected_customer ON billing.uncorrected (customer_id, period);
    """)
