"""Accepting messages: what the client is told, what is stored, what is charged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from ileti.domain.clock import utcnow
from ileti.domain.pricing import Balance
from ileti.store import accounts, ledger
from ileti.store.models import BlacklistEntry, Message, QueueEntry
from support.api import Api

SEND = {"title": "ACME", "text": "Merhaba", "sentto": "905321234567"}


async def balance(api: Api) -> tuple[int, int]:
    async with api.db.read() as conn:
        return await accounts.balances(conn, api.account_id)


async def count(api: Api, table) -> int:
    async with api.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def send(api: Api, path: str = "/sms/send", headers: dict | None = None, **fields):
    return await api.client.post(path, json={"api_key": api.key, **fields}, headers=headers or {})


async def test_send_is_accepted_stored_queued_and_charged(api: Api) -> None:
    response = await send(api, **{**SEND, "sentto": "+90 532 123 45 67", "sms_lang": 1})
    body = response.json()
    assert response.status_code == 200
    assert body["result_code"] == "TS-1024"
    assert body["number_of_sms"] == 1
    assert body["total_recipients"] == body["success_count"] == 1
    assert body["sms_lang"] == "Turkish"
    assert body["content_type"] == "Transactional"
    assert body["country"] == "Turkey-TR"
    assert await balance(api) == (149, 1250)
    async with api.db.read() as conn:
        row = (await conn.execute(select(Message.__table__))).one()
        last = await ledger.last_balance_after(conn, api.account_id, Balance.MAIN)
    assert (row.id, row.sentto, row.status, row.cost) == (
        body["sms_id"],
        "905321234567",
        "queued",
        1,
    )
    assert row.operator == "Turkcell"
    assert last == 149
    assert await count(api, QueueEntry.__table__) == 1


async def test_mobile_is_accepted_and_sentto_wins(api: Api) -> None:
    by_mobile = await send(api, title="ACME", text="a", mobile="05441234567")
    both = await send(api, title="ACME", text="b", mobile="05441234567", sentto="905051234567")
    assert by_mobile.json()["result_code"] == both.json()["result_code"] == "TS-1024"
    async with api.db.read() as conn:
        numbers = [
            r[0]
            for r in await conn.execute(
                select(Message.__table__.c.sentto).order_by(Message.__table__.c.id)
            )
        ]
    assert numbers == ["905441234567", "905051234567"]


async def test_long_english_text_is_transliterated_and_priced_per_segment(api: Api) -> None:
    text = "Şirketimiz ğüçlü " * 12  # 204 characters
    body = (await send(api, title="ACME", text=text, sentto="905321234567", sms_lang=0)).json()
    assert body["sms_lang"] == "English"
    assert body["number_of_sms"] == 2
    assert await balance(api) == (148, 1250)


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"title": "ACME", "text": "hi"}, 400, "TS-1025"),
        ({"title": "ACME", "text": "", "sentto": "905321234567"}, 400, "TS-1026"),
        ({"title": "NOPE", "text": "hi", "sentto": "905321234567"}, 403, "TS-1029"),
        ({"title": "ACME Promo", "text": "hi", "sentto": "905321234567"}, 403, "TS-1028"),
        ({"title": "ACME", "text": "hi", "sentto": "12345"}, 400, "TS-1034"),
        ({"title": "ACME", "text": "hi", "sentto": "905321234567", "sms_lang": 9}, 400, "TS-1035"),
        (
            {"title": "ACME", "text": "hi", "sentto": "905321234567", "content_type": 4},
            400,
            "TS-1035",
        ),
        ({"text": "hi", "sentto": "905321234567"}, 400, "TS-1035"),
        ({"title": "ACME", "text": "x" * 1601, "sentto": "905321234567"}, 400, "TS-1046"),
        (
            {
                "title": "ACME",
                "text": "hi",
                "sentto": "905321234567",
                "scheduled_sms": 1,
                "scheduled_date": "2020-01-01",
                "scheduled_time": "10:00",
            },
            400,
            "TS-1038",
        ),
        (
            {
                "title": "ACME",
                "text": "hi",
                "sentto": "905321234567",
                "scheduled_sms": 1,
                "scheduled_date": "2030-13-45",
                "scheduled_time": "10:00",
            },
            400,
            "TS-1038",
        ),
        ({"title": "ACME", "text": "hi", "sentto": ["905321234567"]}, 400, "TS-1035"),
    ],
)
async def test_refusals_change_nothing(api: Api, fields: dict, status: int, code: str) -> None:
    response = await send(api, **fields)
    assert (response.status_code, response.json()["result_code"]) == (status, code)
    assert await balance(api) == (150, 1250)
    assert await count(api, Message.__table__) == 0


async def test_international_needs_the_switch_and_uses_the_price_table(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_international(conn, api.account_id, False)
    refused = await send(api, title="ACME", text="hi", sentto="4915123456789")
    assert (refused.status_code, refused.json()["result_code"]) == (403, "TS-1032")
    async with api.db.write() as conn:
        await accounts.set_international(conn, api.account_id, True)
    accepted = (await send(api, title="ACME", text="hi", sentto="4915123456789")).json()
    assert accepted["country"] == "Germany-DE"
    assert await balance(api) == (150, 1250 - 160)


async def test_a_group_charges_each_balance_for_its_own_recipients(api: Api) -> None:
    """Turkish numbers are paid in credits, a segment each; the others from the international
    balance at the price of their country; one ledger entry per balance."""
    turkish = ["905321234567", "905421234567", "905051234567"]
    german = ["4915123456789", "4915123456788"]
    short = await send(api, path="/group/send", title="ACME", text="hi", sentto=turkish + german)
    assert short.json()["result_code"] == "TS-1024"
    assert await balance(api) == (150 - 3, 1250 - 2 * 160)
    long = await send(
        api, path="/group/send", title="ACME", text="x" * 200, sms_lang=0, sentto=turkish + german
    )
    assert long.json()["number_of_sms"] == 2 * 5
    assert await balance(api) == (150 - 3 - 2 * 3, 1250 - 2 * 160 - 2 * 2 * 160)
    async with api.db.read() as conn:
        after = await ledger.last_balance_after(conn, api.account_id, Balance.INTERNATIONAL)
    assert after == 1250 - 6 * 160


async def test_insufficient_balance_is_ts_1027_and_charges_nothing(api: Api) -> None:
    response = await send(
        api,
        path="/group/send",
        title="ACME",
        text="x" * 900,
        sms_lang=0,
        sentto=[f"9053212345{i:02d}" for i in range(30)],
    )
    assert (response.status_code, response.json()["result_code"]) == (403, "TS-1027")
    assert await balance(api) == (150, 1250)
    assert await count(api, Message.__table__) == 0


async def test_blacklisted_single_recipient_is_ts_1044_and_not_charged(api: Api) -> None:
    async with api.db.write() as conn:
        await conn.execute(
            insert(BlacklistEntry.__table__).values(
                account_id=api.account_id,
                number="905321234567",
                scope="all",
                source="api",
                created_at=utcnow(),
            )
        )
    response = await send(api, **SEND)
    assert (response.status_code, response.json()["result_code"]) == (403, "TS-1044")
    assert await balance(api) == (150, 1250)


async def test_advertising_blacklist_stops_only_advertising(api: Api) -> None:
    async with api.db.write() as conn:
        await conn.execute(
            insert(BlacklistEntry.__table__).values(
                account_id=api.account_id,
                number="905321234567",
                scope="advertising",
                source="sms",
                created_at=utcnow(),
            )
        )
    refused = await send(api, **SEND, content_type=2)
    assert refused.json()["result_code"] == "TS-1044"
    accepted = await send(api, **SEND, content_type=0)
    assert accepted.json()["result_code"] == "TS-1024"


async def test_scheduled_message_waits_until_due(api: Api) -> None:
    due = (datetime.now(ZoneInfo("Europe/Istanbul")) + timedelta(days=1)).replace(
        second=0, microsecond=0
    )
    body = (
        await send(
            api,
            **SEND,
            scheduled_sms=1,
            scheduled_date=due.strftime("%Y-%m-%d"),
            scheduled_time=due.strftime("%H:%M"),
        )
    ).json()
    assert body["result_code"] == "TS-1024"
    async with api.db.read() as conn:
        row = (
            await conn.execute(select(Message.__table__.c.due_at, Message.__table__.c.expires_at))
        ).one()
    assert row.due_at == due.astimezone(UTC)
    assert row.expires_at - row.due_at == timedelta(minutes=1440)


async def test_identical_request_within_the_window_creates_nothing(api: Api) -> None:
    first = (await send(api, **SEND)).json()
    again = (await send(api, **SEND)).json()
    other = (await send(api, **{**SEND, "text": "another"})).json()
    assert again == first
    assert other["sms_id"] != first["sms_id"]
    assert await count(api, Message.__table__) == 2
    assert await balance(api) == (148, 1250)


async def test_idempotency_key_replays_and_refuses_a_different_body(api: Api) -> None:
    headers = {"Idempotency-Key": "order-77"}
    first = (await send(api, headers=headers, **SEND)).json()
    again = (await send(api, headers=headers, **SEND)).json()
    changed = await send(api, headers=headers, **{**SEND, "text": "changed"})
    assert again == first
    assert changed.status_code == 400
    assert changed.json()["result_code"] == "TS-1035"
    assert await count(api, Message.__table__) == 1


async def test_concurrent_identical_requests_create_one_message(api: Api) -> None:
    replies = await asyncio.gather(*(send(api, **SEND) for _ in range(20)))
    assert {r.json()["sms_id"] for r in replies} == {replies[0].json()["sms_id"]}
    assert await count(api, Message.__table__) == 1
    assert await balance(api) == (149, 1250)


async def test_hundreds_of_concurrent_sends_never_overdraw(api: Api) -> None:
    # 150 credits, 300 different two-segment messages: exactly 75 can be paid for.
    text = "x" * 200
    replies = await asyncio.gather(
        *(
            send(api, title="ACME", text=text, sentto=f"905321{i:06d}", sms_lang=0)
            for i in range(300)
        )
    )
    codes = [r.json()["result_code"] for r in replies]
    accepted = codes.count("TS-1024")
    assert set(codes) <= {"TS-1024", "TS-1027"}
    main, _ = await balance(api)
    assert accepted * 2 + main == 150
    assert accepted == 75
    async with api.db.read() as conn:
        assert await ledger.last_balance_after(conn, api.account_id, Balance.MAIN) == main
    assert await count(api, Message.__table__) == accepted


async def test_group_send_reports_rejections_per_recipient(api: Api) -> None:
    async with api.db.write() as conn:
        await conn.execute(
            insert(BlacklistEntry.__table__).values(
                account_id=api.account_id,
                number="905441234567",
                scope="all",
                source="api",
                created_at=utcnow(),
            )
        )
    numbers = ["905321234567", "0532 123 45 67", "not a number", "905441234567", "905051234567"]
    body = (
        await send(api, path="/group/send", title="ACME", text="Kampanya", sentto=numbers)
    ).json()
    assert body["result_code"] == "TS-1024"
    assert body["group_id"] == body["sms_id"]
    assert (body["total_recipients"], body["success_count"], body["number_of_sms"]) == (5, 2, 2)
    assert body["rejected"] == [
        {"index": 1, "sentto": "0532 123 45 67", "result_code": "TS-1035"},
        {"index": 2, "sentto": "not a number", "result_code": "TS-1034"},
        {"index": 3, "sentto": "905441234567", "result_code": "TS-1044"},
    ]
    assert await balance(api) == (148, 1250)


async def test_group_with_no_acceptable_recipient_fails_whole(api: Api) -> None:
    response = await send(api, path="/group/send", title="ACME", text="x", sentto=["1", "2"])
    assert response.json()["result_code"] == "TS-1034"
    assert await count(api, Message.__table__) == 0


async def test_send_mixed_needs_arrays_of_one_length(api: Api) -> None:
    mismatch = await send(
        api, path="/group/sendMixed", title="ACME", text=["a", "b"], sentto=["905321234567"]
    )
    assert mismatch.json()["result_code"] == "TS-1037"
    body = (
        await send(
            api,
            path="/group/sendMixed",
            title="ACME",
            text=["kısa", "y" * 200],
            sentto=["905321234567", "905051234567"],
            sms_lang=0,
        )
    ).json()
    assert body["result_code"] == "TS-1024"
    assert body["number_of_sms"] == 3


async def test_a_large_mixed_group_stores_every_recipients_own_message(api: Api) -> None:
    """Hundreds of rows go in one bulk statement: what each recipient shares with the others
    and what is its own must both land on the right row."""
    async with api.db.write() as conn:
        await accounts.topup(conn, api.account_id, Balance.MAIN, 1_000, utcnow())
    numbers = [f"90532{n:07d}" for n in range(300)]
    texts = [f"Kargo {n}" if n % 3 else "ş" * 80 for n in range(300)]
    body = (
        await send(api, path="/group/sendMixed", title="ACME", text=texts, sentto=numbers)
    ).json()
    assert body["result_code"] == "TS-1024"
    assert body["success_count"] == 300
    async with api.db.read() as conn:
        rows = (
            await conn.execute(
                select(
                    Message.sentto, Message.text, Message.segments, Message.group_id, Message.status
                ).order_by(Message.id)
            )
        ).all()
        queued = (await conn.execute(select(func.count()).select_from(QueueEntry))).scalar()
    assert [(r.sentto, r.text) for r in rows] == list(zip(numbers, texts, strict=True))
    assert [r.segments for r in rows] == [1 if n % 3 else 2 for n in range(300)]
    assert {(r.group_id, r.status) for r in rows} == {(body["group_id"], "queued")}
    assert queued == 300


async def test_too_many_recipients_is_ts_1045(api: Api) -> None:
    numbers = ["905321234567"] * 100_001
    response = await api.client.post(
        "/group/send",
        json={"api_key": api.key, "title": "ACME", "text": "x", "sentto": numbers},
    )
    assert (response.status_code, response.json()["result_code"]) == (413, "TS-1045")


async def test_missing_permission_for_bulk_is_ts_1065(api: Api) -> None:
    from ileti.domain.permissions import Permission

    key = await api.new_key(deny={Permission.SEND_BULK_SMS})
    response = await api.client.post(
        "/group/send",
        json={"api_key": key, "title": "ACME", "text": "x", "sentto": ["905321234567"]},
    )
    assert response.json()["result_code"] == "TS-1065"
