"""Units, customers, orders and executions, with the outbox, inbox and audit log.

Revision ID: 0001
"""

from alembic import op

from services.common.audit import audit_table_sql
from services.common.bus import bus_tables_sql

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE orders.units (
        id   text PRIMARY KEY,
        name text NOT NULL
    );
    CREATE SEQUENCE orders.customer_number_seq START 100001;
    CREATE TABLE orders.customers (
        id              uuid PRIMARY KEY,
        customer_number text NOT NULL UNIQUE
                        DEFAULT nextval('orders.customer_number_seq')::text,
        personnummer    char(12) NOT NULL UNIQUE,
        first_name      text NOT NULL,
        last_name       text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX customers_name ON orders.customers (lower(last_name), lower(first_name));
    CREATE TABLE orders.orders (
        id                 uuid PRIMARY KEY,
        customer_id        uuid NOT NULL REFERENCES orders.customers (id),
        unit_id            text NOT NULL REFERENCES orders.units (id),
        service            text NOT NULL,
        decision_date      date NOT NULL,
        planned_start_date date,
        text               text NOT NULL,
        status             text NOT NULL DEFAULT 'unconfirmed' CHECK (status IN
                           ('unconfirmed', 'confirmed', 'ongoing', 'ended', 'withdrawn')),
        withdrawn_reason   text,
        created_by         text NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX orders_unit_status ON orders.orders (unit_id, status);
    CREATE INDEX orders_customer ON orders.orders (customer_id);
    CREATE TABLE orders.executions (
        id          uuid PRIMARY KEY,
        order_id    uuid NOT NULL UNIQUE REFERENCES orders.orders (id),
        customer_id uuid NOT NULL REFERENCES orders.customers (id),
        unit_id     text NOT NULL REFERENCES orders.units (id),
        service     text NOT NULL,
        start_date  date NOT NULL,
        end_date    date,
        end_reason  text,
        status      text NOT NULL CHECK (status IN ('confirmed', 'ongoing', 'ended')),
        confirmed_by text NOT NULL,
        ended_by    text,
        CHECK (end_date IS NULL OR end_date >= start_date)
    );
    CREATE INDEX executions_customer ON orders.executions (customer_id);
    """)
    op.execute(bus_tables_sql("orders"))
    op.execute(audit_table_sql("orders"))
