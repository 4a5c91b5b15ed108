"""Where a span of creation times lies among an account's ids: every message of the span is
strictly between the two ids found, also when ids and times cross by seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from ileti.store.db import Database
from ileti.store.message_span import id_span
from ileti.store.sql import moment
from support.panel import Panel, acme_panel
from web.sends_steps import send

_CREATED = text("SELECT id, created_at FROM messages WHERE account_id = :account ORDER BY id")


@pytest.fixture
async def panel(db: Database):
    async with acme_panel(db) as panel:
        yield panel


async def _sent_at(panel: Panel, steps: list[float]) -> None:
    """A message after each step of the clock (a negative step: a message created earlier
    than the one before it, with a higher id)."""
    for seconds in steps:
        panel.clock.advance(seconds)
        await send(panel, "905321234567")
        await send(panel, "905321234567", title="RIVAL", account_id=panel.rival_account_id)


async def test_every_message_of_a_span_lies_between_the_ids(panel: Panel) -> None:
    await _sent_at(panel, [0, 600, 600, -20, 3600, 7200, 30, -5, 86400, 60])
    async with panel.db.read() as conn:
        rows = (await conn.execute(_CREATED, {"account": panel.account_id})).all()
        created = [(row.id, moment(row.created_at)) for row in rows]
        times = sorted({at for _, at in created})
        edges = [None, *times, *(at + timedelta(seconds=1) for at in times)]
        for since in edges:
            for until in edges:
                after, before = await id_span(conn, panel.account_id, since, until)
                inside = [
                    sms_id
                    for sms_id, at in created
                    if (since is None or at >= since) and (until is None or at < until)
                ]
                assert all(after is None or sms_id > after for sms_id in inside), (since, until)
                assert all(before is None or sms_id < before for sms_id in inside), (since, until)
        # Far from the messages, the ids leave them all out.
        last = created[-1][1]
        after, _ = await id_span(conn, panel.account_id, last + timedelta(days=1), None)
        assert after == created[-1][0]
        _, before = await id_span(conn, panel.account_id, None, created[0][1] - timedelta(days=1))
        assert before == created[0][0]
