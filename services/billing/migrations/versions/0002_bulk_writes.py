"""Invoices and their lines without foreign keys: the billing run writes them in bulk; an
index finds the ended stays whose last month no invoice event has named yet.

A foreign key is checked row by row (a trigger per row, with a row lock on the parent): for
a month of 100 000 customers that was most of the time spent writing. The only writer is
`repository.bill_batch`, which inserts a batch's lines from the invoices it has just
inserted, in the same transaction, under a run recorded before any batch starts.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("""
    ALTER TABLE billing.invoice_lines DROP CONSTRAINT invoice_lines_invoice_id_fkey;
    ALTER TABLE billing.invoices DROP CONSTRAINT invoices_run_id_fkey;
    CREATE INDEX stays_unannounced ON billing.stays (customer_id)
        WHERE end_date IS NOT NULL AND final_invoice_id IS NULL;
    """)
