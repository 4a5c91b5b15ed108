"""Cancelling through the sending service: what waits unclaimed is cancelled, refunded once and
announced; what a dispatcher holds, an operator took or is final already is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ileti import codes
from ileti.access.authenticator import Caller
from ileti.codes import GatewayError
from ileti.domain.lifecycle import MessageStatus
from ileti.domain.permissions import Permission
from ileti.domain.pricing import Balance
from ileti.domain.schedule import ISTANBUL
from ileti.domain.webhooks import EventType, WebhookConfig
from ileti.sending.cancelling import Cancelled
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import GroupSend, Schedule, SingleSend
from ileti.store import accounts, ledger
from ileti.store import queue as q
from ileti.store import webhooks as outbox
from ileti.store.models import LedgerEntry, Message, QueueEntry, WebhookEvent
from support.api import Api

NUMBERS = ["905321234567", "905331234567", "905421234567", "905051234567"]
GERMAN = "4915123456789"


async def _caller(api: Api) -> Caller:
    return await api.services.access.authenticate(api.key, "127.0.0.1", Permission.SEND_BULK_SMS)


def _later(api: Api, hours: int = 2) -> Schedule:
    at = (api.clock.now() + timedelta(hours=hours)).astimezone(ISTANBUL)
    return Schedule(1, at.strftime("%Y-%m-%d"), at.strftime("%H:%M"))


async def _group(api: Api, numbers: list[str], schedule: Schedule | None = None) -> int:
    send = GroupSend(
        title="ACME",
        numbers=numbers,
        text="Yarın 10:00 randevunuz var",
        schedule=schedule or _later(api),
    )
    accepted = await api.services.sending.group(
        await _caller(api), send, RequestIdentity.of("test", {"n": numbers}, None)
    )
    assert accepted.group_id is not None
    return accepted.group_id


async def _single(api: Api, number: str, schedule: Schedule | None = None, text: str = "") -> int:
    send = SingleSend(
        title="ACME",
        text=text or "Merhaba",
        number=number,
        schedule=schedule or _later(api),
    )
    accepted = await api.services.sending.single(
        await _caller(api), send, RequestIdentity.of("test", {"n": number, "t": text}, None)
    )
    return accepted.sms_id


async def _balances(api: Api) -> tuple[int, int]:
    async with api.db.read() as conn:
        return await accounts.balances(conn, api.account_id)


async def _states(api: Api) -> dict[int, str]:
    table = Message.__table__
    async with api.db.read() as conn:
        rows = await conn.execute(select(table.c.id, table.c.status))
        return dict(rows.all())


async def _refunds(api: Api) -> list[tuple[str, int]]:
    table = LedgerEntry.__table__
    async with api.db.read() as conn:
        rows = await conn.execute(
            select(table.c.reference, table.c.amount)
            .where(table.c.kind == ledger.EntryKind.REFUND.value)
            .order_by(table.c.reference)
        )
        return [tuple(row) for row in rows.all()]


async def _queued(api: Api) -> int:
    async with api.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(QueueEntry))).scalar_one()


async def _ledger_adds_up(api: Api) -> None:
    table = LedgerEntry.__table__
    async with api.db.read() as conn:
        for balance, held in zip(
            Balance, await accounts.balances(conn, api.account_id), strict=True
        ):
            total = (
                await conn.execute(
                    select(func.coalesce(func.sum(table.c.amount), 0)).where(
                        table.c.account_id == api.account_id, table.c.balance == balance.value
                    )
                )
            ).scalar_one()
            assert total == held, balance


async def test_a_scheduled_group_is_cancelled_refunded_and_cancelled_once(api: Api) -> None:
    group_id = await _group(api, NUMBERS)
    assert await _balances(api) == (96, 0)
    caller = await _caller(api)
    done = await api.services.sending.cancel(caller, group_id=group_id)
    assert done == Cancelled(cancelled=4, refunded_credits=4, refunded_kurus=0, left=0)
    assert set((await _states(api)).values()) == {"cancelled"}
    assert await _queued(api) == 0
    assert await _balances(api) == (100, 0)
    refunds = await _refunds(api)
    assert len(refunds) == 4 and {amount for _, amount in refunds} == {1}
    # A second cancel finds nothing to stop, and gives nothing back twice.
    again = await api.services.sending.cancel(caller, group_id=group_id)
    assert again == Cancelled(cancelled=0, refunded_credits=0, refunded_kurus=0, left=4)
    assert await _refunds(api) == refunds
    assert await _balances(api) == (100, 0)
    await _ledger_adds_up(api)


async def test_a_group_shows_its_cancelled_messages_in_status_and_summary(api: Api) -> None:
    group_id = await _group(api, NUMBERS)
    await api.services.sending.cancel(await _caller(api), group_id=group_id)
    group = await api.services.reports.group(api.account_id, group_id)
    assert group.counts[MessageStatus.CANCELLED] == 4
    assert group.counts[MessageStatus.QUEUED] == 0
    summary = await api.services.reports.summary(api.account_id)
    assert [(t.status, t.count, t.credits) for t in summary.days] == [
        (MessageStatus.CANCELLED, 4, 4)
    ]


async def test_one_message_of_a_group_or_a_single_one_is_cancelled_alone(api: Api) -> None:
    group_id = await _group(api, NUMBERS)
    single = await _single(api, "905551234567", text="Uzun mesaj ğüşiöç " * 12)
    charged = 96 - (await _balances(api))[0]
    assert charged > 1
    members = sorted(i for i in await _states(api) if i not in (single, group_id))
    caller = await _caller(api)
    assert await api.services.sending.cancel(caller, sms_id=members[0]) == Cancelled(1, 1, 0, 0)
    long = await api.services.sending.cancel(caller, sms_id=single)
    assert long == Cancelled(cancelled=1, refunded_credits=charged, refunded_kurus=0, left=0)
    states = await _states(api)
    assert [states[i] for i in members] == ["cancelled", "queued", "queued", "queued"]
    assert states[single] == "cancelled"
    assert await _balances(api) == (100 - 4 + 1, 0)
    await _ledger_adds_up(api)


async def test_an_international_message_gives_back_its_kurus(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.topup(conn, api.account_id, Balance.INTERNATIONAL, 1000, api.clock.now())
        await accounts.set_international(conn, api.account_id, True)
    sms_id = await _single(api, GERMAN)
    kurus = (await _balances(api))[1]
    assert kurus < 1000
    done = await api.services.sending.cancel(await _caller(api), sms_id=sms_id)
    assert done == Cancelled(cancelled=1, refunded_credits=0, refunded_kurus=1000 - kurus, left=0)
    assert await _balances(api) == (100, 1000)
    await _ledger_adds_up(api)


async def test_a_message_due_now_is_cancelled_while_no_dispatcher_has_claimed_it(
    api: Api,
) -> None:
    sms_id = await _single(api, NUMBERS[0], schedule=Schedule())
    done = await api.services.sending.cancel(await _caller(api), sms_id=sms_id)
    assert done.cancelled == 1 and (await _states(api))[sms_id] == "cancelled"


async def test_what_a_dispatcher_holds_or_an_operator_took_is_left(api: Api) -> None:
    group_id = await _group(api, NUMBERS, schedule=Schedule())
    ids = sorted(i for i in await _states(api) if i != group_id)
    async with api.db.write() as conn:
        # A dispatcher claims two: one is still being submitted, one the operator took.
        claimed = await q.claim(conn, "worker-1", 2, api.clock.now_ms(), 60_000)
    assert [c.id for c in claimed] == ids[:2]
    async with api.db.write() as conn:
        await _mark_sent(conn, ids[1], api)
    caller = await _caller(api)
    assert await api.services.sending.cancellable(caller, group_id=group_id) == 2
    done = await api.services.sending.cancel(caller, group_id=group_id)
    assert done == Cancelled(cancelled=2, refunded_credits=2, refunded_kurus=0, left=2)
    states = await _states(api)
    assert [states[i] for i in ids] == ["queued", "sent", "cancelled", "cancelled"]
    assert await api.services.sending.cancellable(caller, group_id=group_id) == 0
    # Its lease lapsing does not make the held one cancellable: its worker may have handed it
    # to an operator before it stopped.
    api.clock.advance(120)
    assert (await api.services.sending.cancel(caller, sms_id=ids[0])).left == 1
    assert (await _states(api))[ids[0]] == "queued"
    # The operator's message can no longer be called back.
    assert (await api.services.sending.cancel(caller, sms_id=ids[1])) == Cancelled(0, 0, 0, 1)
    await _ledger_adds_up(api)


async def _mark_sent(conn, message_id: int, api: Api) -> None:
    from ileti.store import lifecycle

    await lifecycle.mark_sent(
        conn, [(message_id, "smsc", [lifecycle.SubmittedPart(1, "op-1")])], api.clock.now()
    )


async def test_a_retried_entry_given_back_by_its_dispatcher_can_be_cancelled(api: Api) -> None:
    sms_id = await _single(api, NUMBERS[0], schedule=Schedule())
    async with api.db.write() as conn:
        await q.claim(conn, "worker-1", 10, api.clock.now_ms(), 60_000)
    caller = await _caller(api)
    assert (await api.services.sending.cancel(caller, sms_id=sms_id)).left == 1
    async with api.db.write() as conn:
        await q.retry_later(conn, {sms_id: 30_000}, api.clock.now_ms(), "worker-1")
    assert (await api.services.sending.cancel(caller, sms_id=sms_id)).cancelled == 1


async def test_mark_sent_does_not_move_a_cancelled_message(api: Api) -> None:
    sms_id = await _single(api, NUMBERS[0])
    await api.services.sending.cancel(await _caller(api), sms_id=sms_id)
    async with api.db.write() as conn:
        await _mark_sent(conn, sms_id, api)
    assert (await _states(api))[sms_id] == "cancelled"


async def test_a_key_that_listens_hears_of_each_cancelled_message(api: Api) -> None:
    caller = await _caller(api)
    async with api.db.write() as conn:
        await outbox.save_config(
            conn,
            caller.key_id,
            WebhookConfig(url="https://example.com/hook", secret="sealed"),
        )
    group_id = await _group(api, NUMBERS[:2])
    await api.services.sending.cancel(caller, group_id=group_id)
    table = WebhookEvent.__table__
    async with api.db.read() as conn:
        rows = (await conn.execute(select(table.c.event_type, table.c.body))).all()
    assert [row.event_type for row in rows] == [EventType.SMS_CANCELLED.value] * 2
    assert all('"status":"cancelled"' in row.body for row in rows)
    assert all(f'"group_id":{group_id}' in row.body for row in rows)


async def test_a_key_that_does_not_listen_hears_nothing(api: Api) -> None:
    caller = await _caller(api)
    async with api.db.write() as conn:
        await outbox.save_config(
            conn,
            caller.key_id,
            WebhookConfig(
                url="https://example.com/hook",
                secret="sealed",
                events=frozenset({EventType.SMS_FAILED}),
            ),
        )
    await api.services.sending.cancel(caller, group_id=await _group(api, NUMBERS[:2]))
    async with api.db.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(WebhookEvent))).scalar_one()
    assert count == 0


async def test_another_accounts_or_an_unknown_id_is_not_found(api: Api) -> None:
    group_id = await _group(api, NUMBERS[:2])
    sms_id = await _single(api, NUMBERS[2])
    async with api.db.write() as conn:
        other = await accounts.create_account(conn, "globex", api.clock.now(), credits=10)
    rival = await api.services.access.authenticate(
        await api.new_key(other.id), "127.0.0.1", Permission.SEND_BULK_SMS
    )
    for kwargs in ({"group_id": group_id}, {"sms_id": sms_id}, {"sms_id": 10**12}):
        with pytest.raises(GatewayError) as refused:
            await api.services.sending.cancel(rival, **kwargs)
        assert refused.value.result == codes.NOT_FOUND
        assert await api.services.sending.cancellable(rival, **kwargs) == 0
    # A group's id is no message's, nor a message's a group's.
    caller = await _caller(api)
    for kwargs in ({"sms_id": group_id}, {"group_id": sms_id}):
        with pytest.raises(GatewayError) as refused:
            await api.services.sending.cancel(caller, **kwargs)
        assert refused.value.result == codes.NOT_FOUND
    assert set((await _states(api)).values()) == {"queued"}
    assert await _balances(api) == (97, 0)


@pytest.mark.parametrize("kwargs", [{}, {"sms_id": 1, "group_id": 2}])
async def test_exactly_one_id_is_named(api: Api, kwargs: dict[str, int]) -> None:
    with pytest.raises(GatewayError) as refused:
        await api.services.sending.cancel(await _caller(api), **kwargs)
    assert refused.value.result == codes.INVALID_FIELD
