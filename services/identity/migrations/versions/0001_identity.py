"""People as the identity provider names them, their memberships (role, unit, validity),
outbox, inbox, audit.

Revision ID: 0001
"""

from alembic import op

from services.common.audit import audit_table_sql
from services.common.bus import bus_tables_sql

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    -- a person as the identity provider knows them: its subject and the name it gives
    CREATE TABLE identity.people (
        sub        text PRIMARY KEY CHECK (length(sub) BETWEEN 1 AND 255),
        name       text NOT NULL CHECK (length(name) <= 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- who holds which role, at which unit (provider, unit_admin), from which day to which
    -- (both inclusive, Europe/Stockholm; valid_to NULL until further notice)
    CREATE TABLE identity.memberships (
        id         uuid PRIMARY KEY,
        sub        text NOT NULL REFERENCES identity.people (sub),
        role       text NOT NULL CHECK (role IN
                   ('caseworker', 'provider', 'coordinator', 'fee_admin', 'admin', 'unit_admin')),
        unit_id    text CHECK (length(unit_id) BETWEEN 1 AND 64),
        valid_from date NOT NULL,
        valid_to   date,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        ended_by   text,
        ended_at   timestamptz,
        CHECK (valid_to IS NULL OR valid_to >= valid_from),
        CHECK ((role IN ('provider', 'unit_admin')) = (unit_id IS NOT NULL))
    );
    CREATE INDEX memberships_sub ON identity.memberships (sub, valid_from);
    CREATE INDEX memberships_unit ON identity.memberships (unit_id, valid_from)
        WHERE unit_id IS NOT NULL;
    """)
    op.execute(bus_tables_sql("identity"))
    op.execute(audit_table_sql("identity"))
