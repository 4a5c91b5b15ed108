"""KVKK: what is kept about a number, exported and erased; texts purged after the retention.

Messages are sent through the API and moved as the dispatcher and the receipt handler move them
(claimed, handed over, delivered), on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import orjson
import pytest
from sqlalchemy import insert, select

from ileti.codes import GatewayError
from ileti.compliance.contacts import ContactLine
from ileti.dispatch import sweeper
from ileti.dispatch.sweeper import Sweeper
from ileti.domain.lifecycle import DELIVERED
from ileti.domain.schedule import ISTANBUL
from ileti.domain.signing import new_secret
from ileti.domain.webhooks import WebhookConfig
from ileti.store import accounts, campaigns, keys, lifecycle, otp, queue
from ileti.store.db import Database
from ileti.store.lifecycle import SubmittedPart
from ileti.store.models import Base, ConsentRecord, LedgerEntry, Message, Otp
from ileti.store.webhooks import save_config
from support.api import Api, acme_api

NUMBER = "905321234567"
# The number as callers write it: each is the same person.
WRITTEN = ("905321234567", "0532 123 45 67", "5321234567")
OTHER = "905339876543"
BODY = "Sayın Ayşe Yılmaz, 48213 numaralı siparişiniz yarın teslim edilecek."
OTHER_BODY = "Sayın Can Demir, randevunuz Salı 14:00."


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    async with acme_api(db) as api:
        yield api


async def send(api: Api, path: str = "/sms/send", key: str | None = None, **fields) -> dict:
    body = {"api_key": key or api.key, **fields}
    if path != "/otp/send":
        body.setdefault("title", "ACME")
    answer = (await api.post(path, body)).json()
    assert answer["result"] is True, answer
    return answer


async def deliver(api: Api) -> list[int]:
    """What the dispatcher and the receipt handler do with every message due: claimed, handed
    to the operator (an OTP's code hidden as it leaves), delivered."""
    now = api.clock.now()
    async with api.db.write() as conn:
        ids = [c.id for c in await queue.claim(conn, "test", 1000, api.clock.now_ms(), 60_000)]
        await lifecycle.mark_sent(
            conn, [(i, "smsc", [SubmittedPart(1, f"op{i}")]) for i in ids], now
        )
        await otp.redact(conn, ids)
        await lifecycle.finish(conn, ids, DELIVERED, now, None)
    return ids


async def later(api: Api, text: str = BODY, number: str = NUMBER, days: int = 2) -> int:
    """A message scheduled ``days`` ahead: it waits in the queue."""
    due = (api.clock.now() + timedelta(days=days)).astimezone(ISTANBUL)
    answer = await send(
        api,
        sentto=number,
        text=text,
        scheduled_sms=1,
        scheduled_date=due.strftime("%Y-%m-%d"),
        scheduled_time=due.strftime("%H:%M"),
    )
    return answer["sms_id"]


async def keep_a_bit_of_everything(api: Api) -> None:
    """The number in every place the gateway keeps one: messages (one an OTP), webhook events,
    the blacklist, a contact group, a kept answer that left it out, an İYS consent."""
    async with api.db.write() as conn:
        [key] = await keys.list_keys(conn, api.account_id)
        await save_config(conn, key.id, WebhookConfig("https://hooks.example.com/x", new_secret()))
    await send(api, sentto=WRITTEN[1], text=BODY, sms_lang=1)
    await send(api, sentto=OTHER, text=OTHER_BODY, sms_lang=1)
    await send(api, "/otp/send", mobile=NUMBER, lang=1)
    await deliver(api)
    await api.services.blacklist.add(api.account_id, WRITTEN[2])
    answer = await send(api, "/group/send", sentto=[OTHER, WRITTEN[1]], text=OTHER_BODY)
    assert [r["sentto"] for r in answer["rejected"]] == [WRITTEN[1]]
    await deliver(api)
    group = await api.services.contacts.create(api.account_id, "Müşteriler")
    lines = [ContactLine(1, WRITTEN[1], "Ayşe", "Yılmaz"), ContactLine(2, OTHER, "Can", "Demir")]
    await api.services.contacts.add(api.account_id, group.id, lines)
    async with api.db.write() as conn:
        await conn.execute(
            insert(ConsentRecord.__table__).values(
                account_id=api.account_id, brand_code="123456", recipient=NUMBER,
                recipient_type="BIREYSEL", type="MESAJ", status="ONAY", source="HS_WEB",
                consent_date=api.clock.now(), origin="api", latest=True, sync_state="synced",
                sync_error=None, sync_attempts=1, next_sync_ms=0, transaction_id=None,
                created_at=api.clock.now(),
            )
        )  # fmt: skip


async def every_row(db: Database) -> dict[str, str]:
    """Every table's rows, as text: where a number or a text could hide."""
    async with db.read() as conn:
        return {
            table.name: repr((await conn.execute(select(table))).all())
            for table in Base.metadata.sorted_tables
        }


async def texts(api: Api) -> dict[str, list[str | None]]:
    """The account's messages' texts as ``/reports/messages`` shows them, by number."""
    answer = (await api.post("/reports/messages", {"api_key": api.key, "with_text": True})).json()
    shown: dict[str, list[str | None]] = {}
    for message in answer["messages"]:
        shown.setdefault(message["sentto"], []).append(message.get("text"))
    return shown


async def audited(api: Api, account_id: int | None = None) -> list[tuple[str, str, str, str]]:
    entries, _ = await api.services.audit.page(account_id or api.account_id)
    return [(e.actor, e.action, e.subject, e.detail or "") for e in entries]


async def test_an_export_holds_everything_kept_about_the_number_and_nothing_else(
    api: Api,
) -> None:
    await keep_a_bit_of_everything(api)
    exported = await api.services.privacy.export(WRITTEN[1])
    assert exported["number"] == NUMBER
    [account] = exported["accounts"]
    assert account["account"] == "acme"
    messages = account["messages"]
    assert [m["kind"] for m in messages] == ["single", "otp"]
    assert messages[0]["text"] == BODY and messages[0]["status"] == "delivered"
    assert "••••" in messages[1]["text"]  # the OTP's code stays hidden
    assert [o["message_id"] for o in account["otps"]] == [messages[1]["id"]]
    assert [(b["number"], b["scope"]) for b in account["blacklist"]] == [(NUMBER, "all")]
    assert [(c["contact_group"], c["first_name"]) for c in account["contacts"]] == [
        ("Müşteriler", "Ayşe")
    ]
    assert [(c["status"], c["latest"]) for c in account["consents"]] == [("ONAY", True)]
    events = account["webhook_events"]
    assert {e["body"]["event_type"] for e in events} == {"sms.sent", "sms.delivered"}
    assert len(events) == 4 and {e["body"]["data"]["sentto"] for e in events} == {NUMBER}
    [kept] = account["kept_answers"]
    assert [r["sentto"] for r in kept["rejected"]] == [WRITTEN[1]]
    whole = orjson.dumps(exported).decode()
    assert OTHER not in whole and OTHER_BODY not in whole
    [entry] = await audited(api)
    assert entry[:3] == ("operator", "privacy.export", "90532*****67")
    assert "messages 2" in entry[3] and NUMBER not in entry[3]


async def test_an_erasure_leaves_the_number_only_in_the_consents_and_no_text(api: Api) -> None:
    waiting = await later(api)
    await keep_a_bit_of_everything(api)
    async with api.db.write() as conn:
        csv = f"telefon;ad\n{WRITTEN[1]};Ayşe\n".encode()
        await campaigns.keep_upload(conn, "u1", api.account_id, "liste.csv", csv, 0)
    credits_before, _, _ = await _balances(api)
    erased = await api.services.privacy.erase("+90 532 123 45 67")
    assert erased == {
        "cancelled": 1,
        "messages": 3,
        "otps": 1,
        "contacts": 1,
        # sent and delivered of two messages, and the scheduled one's cancellation.
        "webhook_events": 5,
        "kept_answers": 1,
        # A file waiting for its campaign may list the number.
        "campaign_uploads": 1,
    }
    # The scheduled message never goes out, and its credit comes back.
    assert (await _status(api, waiting)) == "cancelled"
    assert (await _balances(api))[0] == credits_before + 1
    rows = await every_row(api.db)
    for table, text in rows.items():
        for written in WRITTEN:
            # The consents are the brand's proof; the blacklist keeps the refusal honoured.
            assert written not in text or table in ("consents", "blacklist"), table
        assert BODY not in text, table
    assert NUMBER in rows["consents"]
    assert "Ayşe" not in rows["contacts"]
    # The other recipient keeps everything.
    shown = await texts(api)
    assert shown[OTHER] == [OTHER_BODY, OTHER_BODY]
    [hashed] = [number for number in shown if number != OTHER]
    assert hashed.startswith("x") and len(hashed) == 17
    assert shown[hashed] == [None, None, None]
    actor, action, subject, detail = (await audited(api))[0]
    assert (actor, action, subject) == ("operator", "privacy.erase", "90532*****67")
    assert "messages 3" in detail and "cancelled 1" in detail


async def test_an_erased_number_is_still_found_under_its_hash(api: Api) -> None:
    await send(api, sentto=NUMBER, text=BODY)
    await deliver(api)
    await api.services.privacy.erase(NUMBER)
    exported = await api.services.privacy.export(NUMBER)
    [account] = exported["accounts"]
    [message] = account["messages"]
    assert message["sentto"] == exported["erased_as"] != NUMBER
    assert message["text"] is None and message["purged_at"] is not None
    assert message["status"] == "delivered"


async def test_erasing_in_one_account_leaves_the_others_alone(api: Api) -> None:
    async with api.db.write() as conn:
        other = await accounts.create_account(conn, "globex", api.clock.now(), credits=10)
        await accounts.add_title(conn, other.id, "ACME", api.clock.now(), active=True)
        other_key, _ = await keys.create_key(conn, other.id, api.clock.now())
    await send(api, sentto=NUMBER, text=BODY)
    await send(api, key=other_key, sentto=NUMBER, text=OTHER_BODY)
    await deliver(api)
    erased = await api.services.privacy.erase(NUMBER, "acme")
    assert erased["messages"] == 1
    [theirs] = (await api.services.privacy.export(NUMBER, "globex"))["accounts"]
    assert theirs["account"] == "globex"
    assert [(m["sentto"], m["text"]) for m in theirs["messages"]] == [(NUMBER, OTHER_BODY)]
    assert [a for _, a, _, _ in await audited(api, other.id)] == ["privacy.export"]
    assert [a for _, a, _, _ in await audited(api)] == ["privacy.erase"]


async def test_a_message_a_dispatcher_holds_stops_the_erasure(api: Api) -> None:
    answer = await send(api, sentto=NUMBER, text=BODY)
    async with api.db.write() as conn:
        [claimed] = await queue.claim(conn, "worker-1", 10, api.clock.now_ms(), 60_000)
    with pytest.raises(GatewayError) as refused:
        await api.services.privacy.erase(NUMBER)
    assert refused.value.result.code == "TS-1051"
    assert (await texts(api)) == {NUMBER: [BODY]}
    assert await audited(api) == []
    # Once the operator has it, the erasure goes ahead.
    now = api.clock.now()
    async with api.db.write() as conn:
        await lifecycle.mark_sent(conn, [(claimed.id, "smsc", [SubmittedPart(1, "op")])], now)
    assert (await api.services.privacy.erase(NUMBER))["messages"] == 1
    assert answer["sms_id"] == claimed.id


async def test_a_number_listed_again_after_an_erasure_is_erased_again(api: Api) -> None:
    group = await api.services.contacts.create(api.account_id, "Müşteriler")
    for _ in range(2):
        await api.services.contacts.add(api.account_id, group.id, [ContactLine(1, NUMBER)])
        erased = await api.services.privacy.erase(NUMBER)
        assert erased["contacts"] == 1
    [account] = (await api.services.privacy.export(NUMBER))["accounts"]
    assert len(account["contacts"]) == 1


async def test_an_erased_number_stays_blacklisted(api: Api) -> None:
    await api.services.blacklist.add(api.account_id, NUMBER)
    await api.services.privacy.erase(NUMBER)
    refused = await api.post(
        "/sms/send", {"api_key": api.key, "title": "ACME", "text": "hi", "sentto": NUMBER}
    )
    assert refused.json()["result_code"] == "TS-1044"


async def test_an_unknown_account_or_a_non_number_is_refused(api: Api) -> None:
    with pytest.raises(LookupError):
        await api.services.privacy.export(NUMBER, "nobody")
    with pytest.raises(GatewayError) as refused:
        await api.services.privacy.erase("not a number")
    assert refused.value.result.code == "TS-1034"


# Retention.


async def test_texts_past_the_retention_are_purged_and_everything_else_kept(api: Api) -> None:
    await send(api, sentto=NUMBER, text=BODY)
    await send(api, "/otp/send", mobile=OTHER, lang=1)
    await deliver(api)
    waiting = await later(api, OTHER_BODY, OTHER, days=300)
    today = api.clock.now().astimezone(ISTANBUL).date()
    api.clock.advance(timedelta(days=180, seconds=1).total_seconds())
    await send(api, sentto=NUMBER, text="Yeni mesaj")
    await deliver(api)
    summary = await _summary(api, today)
    balances = await _balances(api)
    await Sweeper(api.db, clock=api.clock, retention_days=180).sweep()
    # The old final messages lose their texts; the one still queued and the new one keep theirs.
    assert await texts(api) == {NUMBER: ["Yeni mesaj", None], OTHER: [OTHER_BODY, None]}
    async with api.db.read() as conn:
        masked = (await conn.execute(select(Otp.__table__.c.masked_text))).scalars().all()
        purged = await conn.execute(
            select(Message.__table__.c.id, Message.__table__.c.purged_at, Message.__table__.c.text)
        )
        kept = {row.id: (row.purged_at, row.text) for row in purged}
    assert masked == [""]
    assert kept[waiting] == (None, OTHER_BODY)
    assert sum(1 for at, text in kept.values() if at is not None and text == "") == 2
    # Counts, charges and the ledger are as they were.
    assert await _summary(api, today) == summary
    assert await _balances(api) == balances


async def test_a_retention_of_zero_keeps_every_text(api: Api) -> None:
    await send(api, sentto=NUMBER, text=BODY)
    await deliver(api)
    api.clock.advance(timedelta(days=3650).total_seconds())
    await Sweeper(api.db, clock=api.clock, retention_days=0).sweep()
    assert await texts(api) == {NUMBER: [BODY]}


async def test_the_purge_walks_a_slice_at_a_time_and_comes_back_for_late_ones(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweeper, "PURGE_SLICE", 2)
    monkeypatch.setattr(sweeper, "PURGE_SLICES", 1)
    for n in range(5):
        await send(api, sentto=NUMBER, text=f"Mesaj {n}")
    await deliver(api)
    waiting = await later(api, OTHER_BODY, OTHER, days=300)
    api.clock.advance(timedelta(days=181).total_seconds())
    sweeps = Sweeper(api.db, clock=api.clock, retention_days=180)
    purged = [await sweeps.purge_texts(api.clock.now()) for _ in range(4)]
    assert purged == [2, 2, 1, 0]
    assert (await texts(api))[OTHER] == [OTHER_BODY]
    # The scheduled one goes out late, long after its creation; the next walk finds it.
    api.clock.advance(timedelta(days=120).total_seconds())
    await deliver(api)
    assert await _status(api, waiting) == "delivered"
    assert [await sweeps.purge_texts(api.clock.now()) for _ in range(3)] == [0, 0, 1]
    assert await texts(api) == {NUMBER: [None] * 5, OTHER: [None]}


async def _balances(api: Api) -> tuple[int, int, list[tuple]]:
    """The balances, and every ledger entry."""
    async with api.db.read() as conn:
        credits, kurus = await accounts.balances(conn, api.account_id)
        entries = (await conn.execute(select(LedgerEntry.__table__))).all()
    return credits, kurus, [tuple(entry) for entry in entries]


async def _status(api: Api, sms_id: int) -> str:
    answer = (await api.post("/sms/status", {"api_key": api.key, "sms_id": sms_id})).json()
    return answer["status"]


async def _summary(api: Api, around: date) -> list[dict]:
    """The day totals of the days around one."""
    days = {
        "date_from": str(around - timedelta(days=1)),
        "date_to": str(around + timedelta(days=1)),
    }
    answer = (await api.post("/reports/summary", {"api_key": api.key, **days})).json()
    assert answer["result"] is True, answer
    return answer["days"]
