"""Read model of customers, stays and absences; tariffs, fee decisions, billing runs, invoices.

Revision ID: 0001
"""

from alembic import op

from services.common.audit import audit_table_sql
from services.common.bus import bus_tables_sql

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    -- the read model, kept from other services' events; never read from their schemas
    CREATE TABLE billing.customers (
        id              uuid PRIMARY KEY,
        customer_number text NOT NULL
    );
    CREATE TABLE billing.stays (
        execution_id uuid PRIMARY KEY,
        order_id     uuid NOT NULL,
        customer_id  uuid NOT NULL,
        unit_id      text NOT NULL,
        start_date   date NOT NULL,
        end_date     date,
        -- the invoice whose invoice.issued told the lifecycle that the last month is invoiced
        final_invoice_id uuid,
        CHECK (end_date IS NULL OR end_date >= start_date)
    );
    CREATE INDEX stays_customer ON billing.stays (customer_id, start_date);
    CREATE TABLE billing.absences (
        id          uuid PRIMARY KEY,
        customer_id uuid NOT NULL,
        reason      text NOT NULL,
        from_date   date NOT NULL,
        to_date     date,
        removed     boolean NOT NULL DEFAULT false,
        revision    integer NOT NULL,  -- of the last event applied; an older one is dropped
        CHECK (to_date IS NULL OR to_date >= from_date)
    );
    CREATE INDEX absences_customer ON billing.absences (customer_id, from_date) WHERE NOT removed;

    -- what a month costs: tariffs change on the first of a month
    CREATE TABLE billing.tariffs (
        kind           text NOT NULL CHECK (kind IN ('food', 'care_max')),
        valid_from     date NOT NULL CHECK (extract(day FROM valid_from) = 1),
        monthly_amount bigint NOT NULL CHECK (monthly_amount >= 0),
        updated_by     text NOT NULL,
        updated_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, valid_from)
    );
    CREATE TABLE billing.fee_decisions (
        id                  uuid PRIMARY KEY,
        customer_id         uuid NOT NULL REFERENCES billing.customers (id),
        care_monthly_amount bigint NOT NULL CHECK (care_monthly_amount >= 0),
        valid_from          date NOT NULL,
        valid_to            date,
        created_by          text NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT now(),
        CHECK (valid_to IS NULL OR valid_to >= valid_from)
    );
    CREATE INDEX fee_decisions_customer ON billing.fee_decisions (customer_id, valid_from);

    CREATE TABLE billing.billing_runs (
        id           uuid PRIMARY KEY,
        period       date NOT NULL CHECK (extract(day FROM period) = 1),
        workflow_id  text NOT NULL,
        status       text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        requested_by text NOT NULL,
        started_at   timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        error        text
    );
    CREATE INDEX billing_runs_period ON billing.billing_runs (period);

    -- gapless per year: the counter moves in the transaction that numbers the invoices
    CREATE TABLE billing.invoice_numbers (
        year integer PRIMARY KEY,
        last integer NOT NULL
    );
    CREATE TABLE billing.invoices (
        id              uuid PRIMARY KEY,
        customer_id     uuid NOT NULL,
        customer_number text NOT NULL,
        period          date NOT NULL CHECK (extract(day FROM period) = 1),
        -- regular: the month's fees (and corrections of earlier months);
        -- correction: only corrections, for a customer whose stay is over
        kind            text NOT NULL CHECK (kind IN ('regular', 'correction')),
        status          text NOT NULL CHECK (status IN ('issued', 'held')),
        number_year     integer,
        number_seq      integer,
        issued_on       date,
        hold_reasons    text[] NOT NULL DEFAULT '{}',
        hold_note       text,
        total           bigint NOT NULL,
        run_id          uuid NOT NULL REFERENCES billing.billing_runs (id),
        created_at      timestamptz NOT NULL DEFAULT now(),
        released_by     text,
        released_at     timestamptz,
        UNIQUE (customer_id, period, kind),
        UNIQUE (number_year, number_seq),
        CHECK ((status = 'issued') = (number_seq IS NOT NULL AND issued_on IS NOT NULL))
    );
    CREATE INDEX invoices_period ON billing.invoices (period, status);
    CREATE INDEX invoices_run ON billing.invoices (run_id);
    -- the ledger: what was billed for a customer's month is the sum of its lines
    CREATE TABLE billing.invoice_lines (
        invoice_id     uuid NOT NULL REFERENCES billing.invoices (id),
        line_no        smallint NOT NULL,
        customer_id    uuid NOT NULL,
        fee            text NOT NULL CHECK (fee IN ('food', 'care')),
        correction     boolean NOT NULL,
        period         date NOT NULL,
        days           integer NOT NULL,
        monthly_amount bigint NOT NULL,
        due            bigint NOT NULL,   -- what the rules gave for the month
        billed_before  bigint NOT NULL,   -- what earlier lines had billed for it
        amount         bigint NOT NULL,   -- due - billed_before
        PRIMARY KEY (invoice_id, line_no)
    );
    CREATE INDEX invoice_lines_customer ON billing.invoice_lines (customer_id, period, fee);

    -- months of a customer to check again: a fact changed after they may have been invoiced
    CREATE SEQUENCE billing.recheck_seq;
    CREATE TABLE billing.rechecks (
        customer_id uuid NOT NULL,
        period      date NOT NULL,
        seq         bigint NOT NULL DEFAULT nextval('billing.recheck_seq'),
        PRIMARY KEY (customer_id, period)
    );
    """)
    op.execute(bus_tables_sql("billing"))
    op.execute(audit_table_sql("billing"))
