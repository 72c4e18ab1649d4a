"""Absences, the read model of stays fed by the orders service's events, outbox, inbox, audit.

Revision ID: 0001
"""

from alembic import op

from services.common.audit import audit_table_sql
from services.common.bus import bus_tables_sql

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    -- who stays at which unit, from when to when: kept from order.confirmed and
    -- execution.ended, never read from the orders schema
    CREATE TABLE absence.stays (
        execution_id uuid PRIMARY KEY,
        order_id     uuid NOT NULL,
        customer_id  uuid NOT NULL,
        unit_id      text NOT NULL,
        start_date   date NOT NULL,
        end_date     date,
        updated_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX stays_customer ON absence.stays (customer_id, unit_id);
    CREATE TABLE absence.absences (
        id            uuid PRIMARY KEY,
        customer_id   uuid NOT NULL,
        unit_id       text NOT NULL,
        order_id      uuid NOT NULL,
        execution_id  uuid NOT NULL REFERENCES absence.stays (execution_id),
        reason        text NOT NULL CHECK (reason IN
                      ('hospital', 'short_term_care', 'relatives', 'vacation', 'other')),
        description   text NOT NULL,
        from_date     date NOT NULL,
        to_date       date,
        -- goes up with every change, so the lifecycle can drop an older event arriving late
        revision      integer NOT NULL DEFAULT 1,
        registered_by text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        updated_by    text,
        updated_at    timestamptz,
        -- an absence registered by mistake is removed: kept here, gone from every list
        removed_by    text,
        removed_at    timestamptz,
        CHECK (to_date IS NULL OR to_date >= from_date)
    );
    CREATE INDEX absences_customer ON absence.absences (customer_id, from_date)
        WHERE removed_at IS NULL;
    CREATE INDEX absences_unit ON absence.absences (unit_id, from_date)
        WHERE removed_at IS NULL;
    """)
    op.execute(bus_tables_sql("absence"))
    op.execute(audit_table_sql("absence"))
