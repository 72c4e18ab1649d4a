"""A unit's lists of orders by status (the box of unconfirmed orders, the confirmed list)
are counted and paged from one index in their order, without reading the orders' rows:
(unit_id, status, decision_date, created_at, id). It replaces (unit_id, status), of which
it is an extension.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute("""
    CREATE INDEX orders_unit_status_listed
        ON orders.orders (unit_id, status, decision_date, created_at, id);
    DROP INDEX orders.orders_unit_status;
    """)
