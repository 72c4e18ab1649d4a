"""The outbox keeps the trace context of the span that wrote each event, for the relay to
put on the message (services/common/tracing.py); rows from before have none and relay as
they did. And a small partial index of the reminders among its events, which the orders
service's /metrics counts at every scrape (services/common/metrics_domain.py) without
reading the whole outbox.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from services.common.bus import trace_context_sql

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(trace_context_sql("orders"))
    op.execute("""
    CREATE INDEX IF NOT EXISTS outbox_reminders ON orders.outbox (seq)
        WHERE type = 'notification.requested' AND data->>'kind' = 'order.reminder';
    """)
