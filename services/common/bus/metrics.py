"""The bus's Prometheus counters, served on each service's `/metrics`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

PUBLISHED = Counter(
    "lifecare_events_published", "Events the outbox relay published, by schema", ["schema"]
)
CONSUMED = Counter("lifecare_events_consumed", "Events a consumer acknowledged", ["queue"])
RETRIED = Counter(
    "lifecare_events_retried", "Deliveries that failed and went back for another try", ["queue"]
)
HELD = Counter(
    "lifecare_events_held",
    "Tries of an event held through an outage (its store not answering), not counted as failures",
    ["queue"],
)
DEAD_LETTERED = Counter(
    "lifecare_events_dead_lettered",
    "Events a consumer gave up on, now in its dead-letter queue `<queue>.dead`",
    ["queue"],
)
RELAY_LAG = Gauge(
    "lifecare_outbox_lag_seconds",
    "Age of the oldest event in a schema's outbox that is not published yet (0: none)",
    ["schema"],
)
