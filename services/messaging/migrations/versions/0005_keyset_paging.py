"""Indexes in the order of the folders' keyset pages (services/common/paging.py): newest
first by sent time and id, of every message and of one sender's, so the page after a
cursor starts with an index seek.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute("""
    CREATE INDEX IF NOT EXISTS messages_keyset ON messaging.messages (sent_at, id);
    CREATE INDEX IF NOT EXISTS messages_sent_keyset
        ON messaging.messages (sender_sub, sent_at, id) WHERE sender_deleted_at IS NULL;
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX IF EXISTS messaging.messages_keyset;
    DROP INDEX IF EXISTS messaging.messages_sent_keyset;
    """)
