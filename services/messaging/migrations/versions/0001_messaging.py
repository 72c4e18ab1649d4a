"""Messages, their deliveries to mailboxes, attachments, the units and people read models,
with the outbox, inbox and audit log.

Revision ID: 0001
"""

from alembic import op

from services.common.audit import audit_table_sql
from services.common.bus import bus_tables_sql

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE messaging.units (
        id   text PRIMARY KEY,
        name text NOT NULL
    );
    CREATE TABLE messaging.people (
        sub     text PRIMARY KEY,
        name    text NOT NULL,
        role    text NOT NULL,
        unit    text,
        seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE messaging.messages (
        id                uuid PRIMARY KEY,
        sender_sub        text,            -- NULL: a notice from the platform itself
        sender_name       text NOT NULL,
        subject           text NOT NULL,
        body              text NOT NULL,
        kind              text NOT NULL DEFAULT 'message',
        in_reply_to       uuid,            -- no foreign key: the original may be gone
        order_id          uuid,
        customer_id       uuid,
        sent_at           timestamptz NOT NULL DEFAULT now(),
        sender_deleted_at timestamptz
    );
    CREATE INDEX messages_sent ON messaging.messages (sender_sub, sent_at)
        WHERE sender_deleted_at IS NULL;
    CREATE INDEX messages_age ON messaging.messages (sent_at);
    -- read and deleted belong to the mailbox: a shared mailbox has one state for everyone
    CREATE TABLE messaging.deliveries (
        message_id   uuid NOT NULL REFERENCES messaging.messages (id) ON DELETE CASCADE,
        mailbox      text NOT NULL,
        mailbox_name text NOT NULL,
        position     smallint NOT NULL,
        read_at      timestamptz,
        deleted_at   timestamptz,
        PRIMARY KEY (message_id, mailbox)
    );
    CREATE INDEX deliveries_inbox ON messaging.deliveries (mailbox, message_id)
        WHERE deleted_at IS NULL;
    -- the files themselves, in the database: removed in the same transaction as the message
    CREATE TABLE messaging.attachments (
        id           uuid PRIMARY KEY,
        owner_sub    text NOT NULL,
        filename     text NOT NULL,
        content_type text NOT NULL,
        size         integer NOT NULL CHECK (size BETWEEN 1 AND 10485760),
        data         bytea NOT NULL,
        uploaded_at  timestamptz NOT NULL DEFAULT now()
    );
    -- PDF, DOCX, ODT, PNG and JPEG are compressed already: store them as they are
    ALTER TABLE messaging.attachments ALTER COLUMN data SET STORAGE EXTERNAL;
    CREATE INDEX attachments_age ON messaging.attachments (uploaded_at);
    CREATE TABLE messaging.message_attachments (
        message_id    uuid NOT NULL REFERENCES messaging.messages (id) ON DELETE CASCADE,
        attachment_id uuid NOT NULL REFERENCES messaging.attachments (id),
        position      smallint NOT NULL,
        PRIMARY KEY (message_id, attachment_id)
    );
    CREATE INDEX message_attachments_file ON messaging.message_attachments (attachment_id);
    """)
    op.execute(bus_tables_sql("messaging"))
    op.execute(audit_table_sql("messaging"))
