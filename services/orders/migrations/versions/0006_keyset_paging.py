"""Indexes in the orders of the keyset pages (services/common/paging.py): orders by
decision date, creation and id (of every unit, and of one), customers by name, customer
number and id, so the page after a cursor starts with an index seek, not a sort of all.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("""
    CREATE INDEX IF NOT EXISTS orders_keyset
        ON orders.orders (decision_date, created_at, id);
    CREATE INDEX IF NOT EXISTS orders_unit_keyset
        ON orders.orders (unit_id, decision_date, created_at, id);
    CREATE INDEX IF NOT EXISTS customers_keyset
        ON orders.customers (last_name, first_name, customer_number, id);
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX IF EXISTS orders.orders_keyset;
    DROP INDEX IF EXISTS orders.orders_unit_keyset;
    DROP INDEX IF EXISTS orders.customers_keyset;
    """)
