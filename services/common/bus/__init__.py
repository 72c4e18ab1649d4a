"""The event bus: outbox written with the change, a relay with publisher confirms, consumers
that are idempotent by their inbox or by their effect, durable quorum queues with
dead-lettering.

- `envelope`: the `Event` every message carries;
- `outbox`: a service's outbox and inbox tables, `add_to_outbox`;
- `topology`: the exchanges and the consumers' queues with their dead-letter queues;
- `relay`: `OutboxRelay`, publishing committed events in order;
- `framing`: the relay's batched publish on aiormq's channel internals (pinned version);
- `consumer`: `InboxConsumer` (alias `EventConsumer`) and `SideEffectConsumer`;
- `trace_context`: the W3C context an event carries from its writer to its consumers;
- `running`, `metrics`: reconnecting after an outage, the Prometheus counters.
"""

from services.common.bus.consumer import (
    HOLD_AT_MOST,
    Consumer,
    Effect,
    EventConsumer,
    Handler,
    InboxConsumer,
    SideEffectConsumer,
    declare_queues,
)
from services.common.bus.envelope import Data, Event
from services.common.bus.framing import publish_confirmed
from services.common.bus.metrics import CONSUMED, DEAD_LETTERED, HELD, PUBLISHED, RETRIED
from services.common.bus.outbox import (
    NOTIFY_CHANNEL,
    add_to_outbox,
    bus_tables_sql,
    trace_context_sql,
)
from services.common.bus.relay import BY_TYPE, OutboxRelay
from services.common.bus.running import keep_running
from services.common.bus.topology import (
    DEAD_LETTER_EXCHANGE,
    DELIVERY_LIMIT,
    EXCHANGE,
    declare_queue,
    declare_topology,
)

__all__ = [
    "BY_TYPE",
    "CONSUMED",
    "DEAD_LETTERED",
    "DEAD_LETTER_EXCHANGE",
    "DELIVERY_LIMIT",
    "EXCHANGE",
    "HELD",
    "HOLD_AT_MOST",
    "NOTIFY_CHANNEL",
    "PUBLISHED",
    "RETRIED",
    "Consumer",
    "Data",
    "Effect",
    "Event",
    "EventConsumer",
    "Handler",
    "InboxConsumer",
    "OutboxRelay",
    "SideEffectConsumer",
    "add_to_outbox",
    "bus_tables_sql",
    "declare_queue",
    "declare_queues",
    "declare_topology",
    "keep_running",
    "publish_confirmed",
    "trace_context_sql",
]
