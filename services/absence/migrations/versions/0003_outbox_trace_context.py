"""The outbox keeps the trace context of the span that wrote each event, for the relay to
put on the message (services/common/tracing.py); rows from before have none and relay as
they did.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from services.common.bus import trace_context_sql

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(trace_context_sql("absence"))
