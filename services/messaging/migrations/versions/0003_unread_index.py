"""The unread count (the badge on every page) reads a small partial index of the deliveries
not yet read, instead of every delivery: a group mailbox keeps thousands of messages, of
which a few are unread.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("""
    CREATE INDEX deliveries_unread ON messaging.deliveries (mailbox)
        WHERE read_at IS NULL AND deleted_at IS NULL;
    """)
