"""The web UI's sessions, shared by its replicas: each session sealed under a hash of its
cookie's id, the one-time ids of forms already posted, and each person's saved choice of
role and unit ("Spara mitt val"). No outbox, inbox or audit: the web UI writes no events
and no customer data.

Revision ID: 0001
"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    -- a browser's session: the SHA-256 of its cookie's random id (the id itself is never
    -- stored), and its data sealed with AES-GCM under a key derived from the payload key
    CREATE TABLE web.sessions (
        id_hash    bytea PRIMARY KEY CHECK (length(id_hash) = 32),
        key_id     text NOT NULL,
        data       bytea NOT NULL,
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX sessions_expires ON web.sessions (expires_at);
    -- a form's one-time id, spent by its first post that took effect, and where that post
    -- led (a second post of the same form, a double click, is sent there too)
    CREATE TABLE web.form_posts (
        session_hash bytea NOT NULL,
        form_id      text NOT NULL CHECK (length(form_id) BETWEEN 1 AND 64),
        url          text NOT NULL,
        posted_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_hash, form_id)
    );
    CREATE INDEX form_posts_posted ON web.form_posts (posted_at);
    -- a person's saved choice of role and unit: it outlives their sessions
    CREATE TABLE web.saved_choices (
        sub      text PRIMARY KEY CHECK (length(sub) BETWEEN 1 AND 255),
        role     text NOT NULL,
        unit     text,
        saved_at timestamptz NOT NULL DEFAULT now()
    );
    """)
