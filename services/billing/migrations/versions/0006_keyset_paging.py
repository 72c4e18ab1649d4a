"""Indexes in the orders of the keyset pages (services/common/paging.py): invoices by the
latest month first, then customer number, kind and id; runs newest first; fee decisions by
customer, first month and creation; a run's uncorrected months by customer and month. The
page after a cursor then starts with an index seek, not a sort of all rows.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("""
    CREATE INDEX IF NOT EXISTS invoices_keyset
        ON billing.invoices (period DESC, customer_number, kind, id);
    CREATE INDEX IF NOT EXISTS billing_runs_keyset ON billing.billing_runs (started_at, id);
    CREATE INDEX IF NOT EXISTS fee_decisions_keyset
        ON billing.fee_decisions (customer_id, valid_from, created_at, id);
    CREATE INDEX IF NOT EXISTS uncorrected_keyset
        ON billing.uncorrected (run_id, customer_number, customer_id, period, fee DESC);
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX IF EXISTS billing.invoices_keyset;
    DROP INDEX IF EXISTS billing.billing_runs_keyset;
    DROP INDEX IF EXISTS billing.fee_decisions_keyset;
    DROP INDEX IF EXISTS billing.uncorrected_keyset;
    """)
