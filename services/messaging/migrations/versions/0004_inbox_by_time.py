"""The inbox page reads each of the caller's mailboxes newest first from an index and stops
at the page, instead of gathering every message of the mailboxes to sort them: a delivery
carries its message's send time (never changed after), indexed per mailbox.

Before, a coordinator's first page of Bosam SÄF's 10 000 messages joined and grouped all
10 000 for the newest 100.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("""
    ALTER TABLE messaging.deliveries ADD COLUMN sent_at timestamptz;
    UPDATE messaging.deliveries d SET sent_at = m.sent_at
      FROM messaging.messages m WHERE m.id = d.message_id;
    ALTER TABLE messaging.deliveries ALTER COLUMN sent_at SET NOT NULL;
    CREATE INDEX deliveries_inbox_by_time
        ON messaging.deliveries (mailbox, sent_at DESC, message_id DESC)
        WHERE deleted_at IS NULL;
    """)
