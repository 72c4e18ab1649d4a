"""The inbox is not an archive: the `message-retention` schedule removes what is too old."""

from __future__ import annotations

import uuid

from lifecare.worker import ensure_schedule
from services.common.settings import Settings
from tests.integration.conftest import wait_for
from tests.integration.messaging.helpers import inbox, send, upload
from tests.unit.messaging.files import PDF
from workflows.message_retention import SCHEDULE_ID, RetentionResult, retention_schedule


async def test_the_retention_schedule_removes_an_old_message_and_its_file(
    temporal, settings: Settings, pool, worker, messaging_http, person, known_unit
):
    bo = person("coordinator", "Bo Berg")
    anna = person("provider", "Anna Andersson", unit=known_unit)
    old_file = (await upload(messaging_http, bo, "gammal.pdf", PDF)).json()
    old = await send(messaging_http, bo, [f"unit:{known_unit}"], "Gammalt", "", [old_file["id"]])
    recent = await send(messaging_http, bo, [f"unit:{known_unit}"], "Nytt")
    # the old one was sent half a year and more ago (the retention is 180 days)
    await pool.execute(
        "UPDATE messaging.messages SET sent_at = now() - interval '200 days' WHERE id = $1",
        uuid.UUID(old["id"]),
    )
    await pool.execute(
        "UPDATE messaging.attachments SET uploaded_at = now() - interval '200 days' WHERE id = $1",
        uuid.UUID(old_file["id"]),
    )
    assert old["id"] in await inbox(messaging_http, anna)

    await ensure_schedule(temporal.client, SCHEDULE_ID, retention_schedule(settings.task_queue))
    await ensure_schedule(temporal.client, SCHEDULE_ID, retention_schedule(settings.task_queue))
    schedule = temporal.client.get_schedule_handle(SCHEDULE_ID)
    try:
        await schedule.trigger()

        async def started():
            return (await schedule.describe()).info.recent_actions

        (action, *_) = await wait_for(started)
        run = temporal.client.get_workflow_handle(
            action.action.workflow_id, result_type=RetentionResult
        )
        result = await run.result()
    finally:
        await schedule.delete()

    assert result.messages >= 1 and result.files >= 1
    assert result.retention_seconds == 180 * 86400
    mine = await inbox(messaging_http, anna)
    assert old["id"] not in mine and recent["id"] in mine
    for who in (anna, bo):
        response = await messaging_http.get(f"/messages/{old['id']}", headers=who.headers)
        assert response.status_code == 404
    file = await messaging_http.get(f"/attachments/{old_file['id']}", headers=bo.headers)
    assert file.status_code == 404
