"""The platform's own notices: a reminder of an unconfirmed order reaches the unit's inbox
through the real lifecycle, and a notification delivered twice is one message."""

from __future__ import annotations

import uuid

import aio_pika
import pytest

from services.common.bus import EXCHANGE, Event
from services.common.dates import today_in_stockholm
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order
from tests.integration.messaging.helpers import badge, inbox


async def test_a_reminder_of_an_unconfirmed_order_lands_in_the_units_inbox(
    http, as_, messaging_http, person, known_unit
):
    caseworker = as_("caseworker")
    anna = person("provider", "Anna Andersson", unit=known_unit)
    customer = await new_customer(http, caseworker)
    order = await new_order(http, caseworker, customer, known_unit, today_in_stockholm())

    async def reminders():
        return [
            m for m in (await inbox(messaging_http, anna)).values() if m["kind"] == "order.reminder"
        ]

    try:
        (reminder, *_) = await wait_for(reminders)  # reminder_after is 2 s in these tests
        assert reminder["sender"] == {"id": None, "name": "Lifecare"}
        assert reminder["to"][0]["id"] == f"unit:{known_unit}"
        assert customer["customer_number"] in reminder["subject"]
        assert reminder["unread"] and await badge(messaging_http, anna) >= 1

        opened = await messaging_http.get(f"/messages/{reminder['id']}", headers=anna.headers)
        assert opened.status_code == 200 and order["id"] in opened.json()["body"]
        answer = await messaging_http.post(
            f"/messages/{reminder['id']}/reply", json={"body": "OK"}, headers=anna.headers
        )
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "notice_cannot_be_answered"
    finally:  # no more reminders for the rest of the session
        withdrawn = await http.post(
            f"/orders/{order['id']}/withdraw", json={"reason": "test over"}, headers=caseworker
        )
        assert withdrawn.status_code == 200, withdrawn.text


@pytest.fixture
async def publish(settings):
    """Publish an event on the bus as a service's relay does."""
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)

    async def send(event: Event) -> None:
        await exchange.publish(
            aio_pika.Message(
                event.model_dump_json().encode(),
                message_id=str(event.id),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=event.type,
        )

    yield send
    await connection.close()


def notice(unit: str, subject: str) -> Event:
    return Event(
        type="notification.requested",
        source="orders",
        data={
            "to": [f"unit:{unit}"],
            "subject": subject,
            "body": "Frånvaron har pågått i mer än 30 dagar.",
            "kind": "absence.escalated",
        },
    )


async def test_a_notification_delivered_twice_is_one_message(
    publish, messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    twice = notice(known_unit, "Lång frånvaro")
    after = notice(known_unit, "Efteråt")
    await publish(twice)
    await publish(twice)  # a redelivery: same event id
    await publish(after)  # one queue, in order: once it is in, both copies were handled

    async def arrived():
        mine = await inbox(messaging_http, anna)
        return mine if str(after.id) in mine else None

    mine = await wait_for(arrived)
    assert [m["subject"] for m in mine.values()].count("Lång frånvaro") == 1
    assert str(twice.id) in mine
    assert await badge(messaging_http, anna) == 2


async def test_a_notification_to_a_unit_not_yet_known_still_arrives(
    publish, messaging_http, person
):
    unit = f"new-{uuid.uuid4().hex[:8]}"
    anna = person("provider", "Anna Andersson", unit=unit)
    event = notice(unit, "Påminnelse")
    await publish(event)

    async def arrived():
        return (await inbox(messaging_http, anna)).get(str(event.id))

    message = await wait_for(arrived)
    assert message["to"] == [{"id": f"unit:{unit}", "name": unit}]
