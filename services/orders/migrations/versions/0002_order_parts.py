"""An order's parts (decision, the customer's address and phone, contacts, needs by IBIC
life area) as one jsonb document; orders from before it read back with no parts.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE orders.orders ADD COLUMN parts jsonb")
