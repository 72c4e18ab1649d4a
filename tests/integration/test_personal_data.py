"""Personal data stays out of what operators and logs see: workflow histories hold it only
encrypted (the codec server decodes it), search attributes never hold it, and the log
check at the end of the session hears the platform's loggers."""

from __future__ import annotations

import json
import logging
import re
from datetime import date

import httpx
from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from lifecare import codec_server
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit
from tests.integration.personal_data import Person, find
from workflows.models import lifecycle_id

# the SDK's own marker details (a patch's id, a local activity's timing), never encoded
SDK_BOOKKEEPING = {"patch-data", "data"}


def _payloads(message: Message) -> list[Payload]:
    """Every payload inside a protobuf message (a history event) but its search attributes,
    which Temporal keeps in the clear for its visibility store, and the SDK's bookkeeping."""
    found: list[Payload] = []
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None or descriptor.name == "search_attributes":
            continue
        if message.DESCRIPTOR.name == "MarkerRecordedEventAttributes":
            values = [v for k, v in value.items() if k not in SDK_BOOKKEEPING]
        elif descriptor.message_type.GetOptions().map_entry:
            values = list(value.values())
        else:
            values = [value] if isinstance(value, Message) else list(value)
        for item in values:
            if isinstance(item, Payload):
                found.append(item)
            elif isinstance(item, Message):
                found += _payloads(item)
    return found


TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def _trace_context_alone(payload: Payload) -> bool:
    """Whether a payload is the tracing interceptor's header holding a traceparent alone."""
    if payload.metadata["encoding"] != b"json/plain":
        return False
    carried = json.loads(payload.data)
    return (
        isinstance(carried, dict)
        and set(carried) == {"traceparent"}
        and bool(TRACEPARENT.match(carried["traceparent"]))
    )


def _person(customer: dict) -> Person:
    return Person(customer["personnummer"], customer["first_name"], customer["last_name"])


async def _withdrawn_order_naming_its_customer(http, as_) -> tuple[dict, dict]:
    """An order whose withdrawal reason names the customer, as caseworkers write them."""
    unit = await new_unit(http, as_("admin"))
    customer = await new_customer(http, as_("caseworker"), first_name="Gunborg")
    order = await new_order(http, as_("caseworker"), customer, unit, date.today())
    pnr = customer["personnummer"]
    reason = f"{customer['first_name']} {customer['last_name']} ({pnr[2:8]}-{pnr[8:]}) avled"
    response = await http.post(
        f"/orders/{order['id']}/withdraw", json={"reason": reason}, headers=as_("caseworker")
    )
    assert response.status_code == 200, response.text
    return customer, order


async def test_a_raw_history_holds_no_personal_data_and_the_codec_server_reads_it(
    http, as_, temporal, settings
):
    customer, order = await _withdrawn_order_naming_its_customer(http, as_)
    person = _person(customer)
    raw_client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,  # no codec: what the server stores
    )
    handle = raw_client.get_workflow_handle(lifecycle_id(order["id"]))
    await wait_for(lambda: _completed(handle))
    history = await handle.fetch_history()

    raw = history.to_json()
    payloads = [p for event in history.events for p in _payloads(event)]
    assert find([raw, *(p.data.decode(errors="replace") for p in payloads)], [person]) == []
    plain = [p for p in payloads if p.metadata["encoding"] != b"binary/encrypted"]
    # in the clear only the tracing headers, while spans are recorded: a W3C traceparent of
    # random ids and nothing else (services/common/tracing.py)
    plain = [p for p in plain if not _trace_context_alone(p)]
    assert payloads and not plain, plain

    app = codec_server.build(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as codec:
        response = await codec.post(
            "/decode", json=json_format.MessageToDict(Payloads(payloads=payloads))
        )
    assert response.status_code == 200, response.text
    decoded = json_format.ParseDict(response.json(), Payloads()).payloads
    texts = [p.data.decode() for p in decoded]
    assert find(texts, [person]), "the codec server should show the withdrawal's reason"
    assert any(order["id"] in text for text in texts)


async def _completed(handle) -> bool:
    description = await handle.describe()
    return description.status is not None and description.status.name == "COMPLETED"


async def test_no_search_attribute_carries_a_personnummer_or_name(http, as_, temporal, pool):
    unit = await new_unit(http, as_("admin"))
    customer = await new_customer(http, as_("caseworker"), first_name="Sigvard")
    order = await new_order(http, as_("caseworker"), customer, unit, date.today())

    async def listed() -> list:
        found = [w async for w in temporal.client.list_workflows()]
        return found if any(w.id == lifecycle_id(order["id"]) for w in found) else []

    workflows = await wait_for(listed)
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT personnummer, first_name, last_name FROM orders.customers")
    people = [Person(*row) for row in rows]
    values = [
        f"{pair.key.name}={pair.value}"
        for workflow in workflows
        for pair in workflow.typed_search_attributes
    ]
    assert any(v == f"CustomerNumber={customer['customer_number']}" for v in values)
    assert find(values, people) == []
    print(f"\nsearch attributes: {len(values)} values of {len(workflows)} workflows, clean")


def test_the_log_check_hears_the_platforms_loggers(no_personal_data_in_logs):
    for name in ("services.orders.api", "workflows.bridge", "uvicorn.access"):
        # handed to the logger past its level: a uvicorn server of another test may have set
        # uvicorn's loggers to ERROR, which says nothing of what the check hears
        logger = logging.getLogger(name)
        logger.handle(
            logger.makeRecord(name, logging.INFO, __file__, 0, "log check probe %s", (name,), None)
        )
    lines = no_personal_data_in_logs.lines()
    for name in ("services.orders.api", "workflows.bridge", "uvicorn.access"):
        assert any(f"log check probe {name}" in line for line in lines), name
