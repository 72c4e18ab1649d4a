"""Small steps the absence integration tests share."""

from __future__ import annotations

from datetime import date

import aio_pika
import httpx

from services.common.bus import EXCHANGE, Event
from services.common.settings import Settings


async def register(
    absence_http: httpx.AsyncClient,
    headers: dict,
    customer_id: str,
    first: date,
    last: date | None = None,
    *,
    reason: str = "hospital",
    description: str = "Inlagd på sjukhus",
) -> httpx.Response:
    """POST /absences as the provider in `headers`."""
    body = {
        "customer_id": customer_id,
        "reason": reason,
        "description": description,
        "from_date": str(first),
        "to_date": str(last) if last else None,
    }
    return await absence_http.post("/absences", json=body, headers=headers)


async def publish(settings: Settings, event: Event) -> None:
    """Put one event on the bus, as the relay does (also a second time: a redelivery)."""
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)),
            routing_key=event.type,
        )
