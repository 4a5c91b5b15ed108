"""KVKK: a phone number and a message's text never reach the logs in full, whatever the gateway
does with them: sends, an OTP and its checks, a refusal, dispatch over SMPP, receipts, webhooks,
a recipient's RET, an export and an erasure, all in one process with every log line kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
import structlog
from sqlalchemy import select

from ileti.dispatch.worker import Worker
from ileti.domain.signing import new_secret
from ileti.domain.webhooks import WebhookConfig
from ileti.store import keys
from ileti.store.db import Database
from ileti.store.models import BlacklistEntry, Message, WebhookEvent
from ileti.store.webhooks import save_config
from support.api import Api, acme_api
from support.receiver import Receiver

NUMBER = "905321234567"
# The forms people write it in, each of which would give it away.
WRITTEN = ("905321234567", "5321234567", "0532 123 45 67")
BODY = "Sayın Ayşe Yılmaz, 48213 numaralı siparişiniz yarın teslim edilecek."
# What a receipt can end a message in.
FINAL = {"delivered", "failed", "expired"}
OTHER_BODY = "Kampanya: bu hafta tüm ürünlerde yüzde 20 indirim, kaçırmayın!"


@contextmanager
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Every structlog event (exceptions rendered) and standard logging record, as text."""
    lines: list[str] = []

    def keep(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        lines.append(repr(event))
        raise structlog.DropEvent

    before = structlog.get_config()
    structlog.configure(
        processors=[structlog.processors.format_exc_info, keep],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    caplog.set_level(logging.DEBUG)
    try:
        yield lines
    finally:
        structlog.configure(**before)
        lines += [record.getMessage() for record in caplog.records]
        lines += [repr(record.args) for record in caplog.records if record.args]
        lines += [caplog.text]


@asynccontextmanager
async def running(api: Api) -> AsyncIterator[Worker]:
    """The worker of the API's gateway: dispatcher, built-in SMSC, receipts, webhooks."""
    worker = Worker(api.services.settings, api.db, api.clock, api.services.keyring)
    ready = asyncio.Event()
    task = asyncio.ensure_future(worker.run(ready))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield worker
    finally:
        await worker.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(read, done, within: float = 30.0):
    deadline = asyncio.get_running_loop().time() + within
    while not done(value := await read()):
        assert asyncio.get_running_loop().time() < deadline, f"timed out; last {value!r}"
        await asyncio.sleep(0.05)
    return value


async def statuses(db: Database) -> list[str]:
    async with db.read() as conn:
        return [row[0] for row in await conn.execute(select(Message.__table__.c.status))]


async def test_numbers_and_texts_stay_out_of_the_logs(db: Database, caplog) -> None:
    with Receiver() as receiver, every_log_line(caplog) as lines:
        async with acme_api(db, webhook_allow_private=True) as api:
            async with api.db.write() as conn:
                [key] = await keys.list_keys(conn, api.account_id)
                await save_config(conn, key.id, WebhookConfig(receiver.url, new_secret()))
            async with running(api) as worker:
                sends = [
                    ("/sms/send", {"sentto": "0532 123 45 67", "text": BODY, "sms_lang": 1}),
                    # Turkish letters written in Latin ones: a warning names some of them.
                    ("/sms/send", {"sentto": NUMBER, "text": OTHER_BODY, "sms_lang": 0}),
                    ("/group/send", {"sentto": [NUMBER, "12"], "text": OTHER_BODY}),
                ]
                for path, fields in sends:
                    body = {"api_key": api.key, "title": "ACME", **fields}
                    answer = (await api.post(path, body)).json()
                    assert answer["result"] is True, answer
                otp = {"api_key": api.key, "mobile": "+90 532 123 45 67", "lang": 1}
                sent = (await api.post("/otp/send", otp)).json()
                for code in ("000000" if sent["otp_code"] != "000000" else "111111", None):
                    check = {"otp_id": sent["otp_id"], "code": code or sent["otp_code"]}
                    await api.post("/otp/verify", {"api_key": api.key, **check})
                await until(
                    lambda: statuses(api.db),
                    lambda found: len(found) == 4 and set(found) <= FINAL,
                )

                async def undelivered() -> int:
                    async with api.db.read() as conn:
                        table = WebhookEvent.__table__
                        events = await conn.execute(select(table.c.id))
                        return len(events.all()) - len(receiver.requests())

                # The events of each message's moves have reached the receiver.
                await until(undelivered, lambda count: count <= 0)
                assert worker.simulator is not None
                await worker.simulator.send_mo(NUMBER, "ACME", "RET")

                async def blacklisted() -> list[str]:
                    async with api.db.read() as conn:
                        table = BlacklistEntry.__table__
                        return [row[0] for row in await conn.execute(select(table.c.number))]

                await until(blacklisted, lambda found: found == [NUMBER])
                advert = {"title": "ACME", "sentto": NUMBER, "text": BODY, "content_type": 2}
                refused = await api.post("/sms/send", {"api_key": api.key, **advert})
                assert refused.json()["result_code"] == "TS-1044"
                await api.services.privacy.export(NUMBER)
                await api.services.privacy.erase(NUMBER)
    text = "\n".join(lines)
    # The capture saw the whole journey: requests, the worker, the SMSC.
    assert "request" in text and "worker_started" in text and "smpp_bound" in text
    for written in WRITTEN:
        assert written not in text
    assert BODY not in text and OTHER_BODY not in text
