"""Indexes in the orders of the keyset pages (services/common/paging.py): a unit's and a
customer's absences by first day, registration and id; the unhandled changes by change
time and id. The page after a cursor then starts with an index seek.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute("""
    CREATE INDEX IF NOT EXISTS absences_unit_keyset
        ON absence.absences (unit_id, from_date, registered_at, id) WHERE removed_at IS NULL;
    CREATE INDEX IF NOT EXISTS absences_customer_keyset
        ON absence.absences (customer_id, from_date, registered_at, id)
        WHERE removed_at IS NULL;
    CREATE INDEX IF NOT EXISTS absences_unhandled_keyset ON absence.absences (changed_at, id)
        WHERE handled_revision IS DISTINCT FROM revision;
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX IF EXISTS absence.absences_unit_keyset;
    DROP INDEX IF EXISTS absence.absences_customer_keyset;
    DROP INDEX IF EXISTS absence.absences_unhandled_keyset;
    """)
