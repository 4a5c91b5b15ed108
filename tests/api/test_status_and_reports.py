"""/sms/status, /reports/messages and /reports/summary as a client sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from ileti.domain.clock import utcnow
from ileti.domain.lifecycle import MessageStatus
from ileti.domain.numbers import normalise
from ileti.domain.permissions import Permission
from ileti.domain.pricing import Balance
from ileti.domain.schedule import ISTANBUL
from ileti.store import accounts
from ileti.store.messages import NewMessage
from ileti.store.models import Message
from support.api import Api
from support.messages import accept, new_message, submission

messages = Message.__table__

# 2024-03-10 00:00 in Istanbul: the first instant of that day.
MIDNIGHT = datetime(2024, 3, 9, 21, 0, tzinfo=UTC)
TURKCELL = "905321234567"
VODAFONE = "905421234567"
GERMAN = "4915123456789"


def _new_message(number: str, segments: int = 1) -> NewMessage:
    phone = normalise(number)
    return new_message(
        phone.digits,
        segments,
        international=not phone.domestic,
        country=phone.country,
        operator=phone.operator,
    )


async def _send(
    api: Api,
    *numbers: str,
    at: datetime = MIDNIGHT,
    title: str = "ACME",
    grouped: bool = False,
    segments: int = 1,
    account_id: int | None = None,
) -> list[int]:
    """Stores messages as the send endpoints do; returns the group id first when grouped."""
    stored = await accept(
        api.db,
        submission(
            account_id or api.account_id,
            [_new_message(n, segments) for n in numbers],
            at,
            title=title,
            grouped=grouped,
        ),
    )
    return ([stored.group_id] if grouped else []) + stored.message_ids


async def _move(api: Api, message_id: int, status: MessageStatus, **values: object) -> None:
    async with api.db.write() as conn:
        await conn.execute(
            update(messages).where(messages.c.id == message_id).values(status=status, **values)
        )


async def _other_account(api: Api) -> tuple[int, str]:
    async with api.db.write() as conn:
        other = await accounts.create_account(conn, "globex", utcnow(), credits=500)
    return other.id, await api.new_key(other.id)


async def _topup(api: Api, credits: int, kurus: int = 0) -> None:
    async with api.db.write() as conn:
        await accounts.topup(conn, api.account_id, Balance.MAIN, credits, utcnow())
        if kurus:
            await accounts.topup(conn, api.account_id, Balance.INTERNATIONAL, kurus, utcnow())


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["result"], body["result_code"]) == (True, "TS-1064")
    return body


def _refused(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["result"], body["result_code"]) == (False, code)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def _status(api: Api, sms_id: object, key: str | None = None) -> httpx.Response:
    return await api.post("/sms/status", {"api_key": key or api.key, "sms_id": sms_id})


async def _report(api: Api, **filters: object) -> httpx.Response:
    return await api.post("/reports/messages", {"api_key": api.key, **filters})


async def _walk(api: Api, **filters: object) -> list[int]:
    """Every id the report gives, page after page."""
    seen: list[int] = []
    cursor = None
    while True:
        body = _ok(await _report(api, **filters, **({"cursor": cursor} if cursor else {})))
        seen += [m["sms_id"] for m in body["messages"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        assert len(body["messages"]) == filters.get("limit", 100)


# /sms/status ------------------------------------------------------------------------------------


async def test_status_of_a_queued_message_has_every_field(api: Api) -> None:
    (sms_id,) = await _send(api, "0532 123 45 67", segments=2)
    body = _ok(await _status(api, sms_id))
    assert body == {
        "result": True,
        "result_code": "TS-1064",
        "result_message": body["result_message"],
        "sms_id": sms_id,
        "status": "queued",
        "title": "ACME",
        "sentto": TURKCELL,
        "number_of_sms": 2,
        "country": "Turkey-TR",
        "operator": "Turkcell",
        "created_at": "2024-03-09T21:00:00Z",
        "sent_at": None,
        "done_at": None,
        "error_reason": None,
        "scheduled_at": None,
    }


@pytest.mark.parametrize("path", ["/sms/status", "/sms/status/"])
async def test_status_takes_the_id_as_a_string_too(api: Api, path: str) -> None:
    (sms_id,) = await _send(api, TURKCELL)
    body = _ok(await api.post(path, {"api_key": api.key, "sms_id": str(sms_id)}))
    assert body["sms_id"] == sms_id


async def test_status_follows_the_lifecycle_with_its_times(api: Api) -> None:
    delivered, failed = await _send(api, TURKCELL, VODAFONE)
    sent_at = MIDNIGHT + timedelta(seconds=2, microseconds=500_000)
    await _move(
        api,
        delivered,
        MessageStatus.DELIVERED,
        sent_at=sent_at,
        done_at=sent_at + timedelta(seconds=5),
    )
    await _move(
        api,
        failed,
        MessageStatus.FAILED,
        done_at=MIDNIGHT + timedelta(minutes=1),
        error_reason="absent subscriber",
    )
    body = _ok(await _status(api, delivered))
    assert (body["status"], body["sent_at"], body["done_at"], body["error_reason"]) == (
        "delivered",
        "2024-03-09T21:00:02Z",
        "2024-03-09T21:00:07Z",
        None,
    )
    body = _ok(await _status(api, failed))
    assert (body["status"], body["sent_at"], body["done_at"], body["error_reason"]) == (
        "failed",
        None,
        "2024-03-09T21:01:00Z",
        "absent subscriber",
    )
    assert (body["sentto"], body["operator"]) == (VODAFONE, "Vodafone")


async def test_status_of_an_international_message_names_its_country(api: Api) -> None:
    (sms_id,) = await _send(api, "+49 151 23456789")
    body = _ok(await _status(api, sms_id))
    assert (body["sentto"], body["country"]) == (GERMAN, "Germany-DE")


async def test_status_of_a_group_counts_every_state(api: Api) -> None:
    group_id, *ids = await _send(api, TURKCELL, VODAFONE, "905051234567", grouped=True, segments=3)
    body = _ok(await _status(api, group_id))
    assert body == {
        "result": True,
        "result_code": "TS-1064",
        "result_message": body["result_message"],
        "group_id": group_id,
        "sms_id": group_id,
        "title": "ACME",
        "total_recipients": 3,
        "accepted": 3,
        "number_of_sms": 9,
        "created_at": "2024-03-09T21:00:00Z",
        "scheduled_at": None,
        "counts": {
            "queued": 3,
            "sent": 0,
            "delivered": 0,
            "failed": 0,
            "expired": 0,
            "cancelled": 0,
        },
    }
    await _move(api, ids[0], MessageStatus.SENT)
    await _move(api, ids[1], MessageStatus.DELIVERED)
    counts = _ok(await _status(api, str(group_id)))["counts"]
    assert counts == {
        "queued": 1,
        "sent": 1,
        "delivered": 1,
        "failed": 0,
        "expired": 0,
        "cancelled": 0,
    }
    # The group's own messages are still reachable one by one.
    assert _ok(await _status(api, ids[1]))["status"] == "delivered"


async def test_unknown_id_and_another_accounts_id_read_the_same(api: Api) -> None:
    (mine,) = await _send(api, TURKCELL)
    group_id, _ = await _send(api, TURKCELL, grouped=True)
    _, other_key = await _other_account(api)
    unknown = _refused(await _status(api, mine + 1000), 404, "TS-1039")
    for sms_id in (mine, group_id, str(mine)):
        foreign = _refused(await _status(api, sms_id, other_key), 404, "TS-1039")
        assert foreign["result_message"] == unknown["result_message"]
        assert set(foreign) == set(unknown)
    huge = _refused(await _status(api, "9" * 19), 404, "TS-1039")
    assert huge["result_message"] == unknown["result_message"]


@pytest.mark.parametrize("sms_id", ["abc", "12a", " 12", "", "-5", 0, -1, 1.5, True, None, [1], {}])
async def test_status_with_a_bad_sms_id_is_ts_1035(api: Api, sms_id: object) -> None:
    body = _refused(await _status(api, sms_id), 400, "TS-1035")
    assert [error["field"] for error in body["errors"]] == ["sms_id"]


async def test_status_without_sms_id_is_ts_1035(api: Api) -> None:
    body = _refused(await api.post("/sms/status"), 400, "TS-1035")
    assert [error["field"] for error in body["errors"]] == ["sms_id"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sms/status", {"sms_id": 1}),
        ("/reports/messages", {}),
        ("/reports/summary", {}),
    ],
)
async def test_queries_need_the_check_sms_status_permission(
    api: Api, path: str, body: dict
) -> None:
    key = await api.new_key(deny={Permission.CHECK_SMS_STATUS})
    _refused(await api.post(path, {"api_key": key, **body}), 403, "TS-1065")


# /reports/messages ------------------------------------------------------------------------------


async def test_report_lists_newest_first_with_the_fields_of_sms_status(api: Api) -> None:
    first, second = await _send(api, TURKCELL, VODAFONE)
    (third,) = await _send(api, GERMAN)
    await _move(api, second, MessageStatus.SENT, sent_at=MIDNIGHT + timedelta(seconds=1))
    body = _ok(await _report(api))
    assert [m["sms_id"] for m in body["messages"]] == [third, second, first]
    assert body["next_cursor"] is None
    for listed in body["messages"]:
        single = _ok(await _status(api, listed["sms_id"]))
        assert listed == {k: v for k, v in single.items() if not k.startswith("result")}


async def test_pagination_walks_every_message_exactly_once(api: Api) -> None:
    await _topup(api, 1000)
    ids: list[int] = []
    for minute in range(23):
        ids += await _send(api, TURKCELL, at=MIDNIGHT + timedelta(minutes=minute))
    group_id, *grouped = await _send(api, TURKCELL, VODAFONE, grouped=True)
    ids += grouped
    for limit in (1, 3, 5, 25, 1000):
        assert await _walk(api, limit=limit) == sorted(ids, reverse=True)
    assert await _walk(api, limit=2, group_id=group_id) == sorted(grouped, reverse=True)


async def test_a_page_does_not_shift_when_messages_arrive(api: Api) -> None:
    older = [i for _ in range(4) for i in await _send(api, TURKCELL)]
    page = _ok(await _report(api, limit=2))
    newer = await _send(api, TURKCELL)
    rest = _ok(await _report(api, limit=10, cursor=page["next_cursor"]))
    assert [m["sms_id"] for m in page["messages"] + rest["messages"]] == older[::-1]
    assert _ok(await _report(api, limit=1))["messages"][0]["sms_id"] == newer[0]


async def test_report_filters(api: Api) -> None:
    await _topup(api, 1000)
    before_midnight = MIDNIGHT - timedelta(seconds=1)
    (late,) = await _send(api, TURKCELL, at=before_midnight)
    (early,) = await _send(api, VODAFONE, at=MIDNIGHT)
    (promo,) = await _send(api, TURKCELL, at=MIDNIGHT + timedelta(days=1), title="ACME Promo")
    group_id, in_group = await _send(api, VODAFONE, at=MIDNIGHT + timedelta(days=2), grouped=True)
    await _move(api, early, MessageStatus.DELIVERED)

    async def ids(**filters: object) -> list[int]:
        return [m["sms_id"] for m in _ok(await _report(api, **filters))["messages"]]

    assert await ids(date_from="2024-03-09", date_to="2024-03-09") == [late]
    assert await ids(date_from="2024-03-10", date_to="2024-03-10") == [early]
    assert await ids(date_from="2024-03-10") == [in_group, promo, early]
    assert await ids(date_to="2024-03-10") == [early, late]
    assert await ids(date_from="2024-03-11", date_to="2024-03-10") == []
    assert await ids(status="delivered") == [early]
    assert await ids(status="queued") == [in_group, promo, late]
    assert await ids(status="expired") == []
    assert await ids(title="ACME Promo") == [promo]
    assert await ids(title="acme") == []
    assert await ids(number="0532 123 45 67") == [promo, late]
    assert await ids(number=5421234567) == [in_group, early]
    assert await ids(group_id=group_id) == [in_group]
    assert await ids(group_id=str(group_id), number=TURKCELL) == []
    assert await ids(number=VODAFONE, status="delivered", date_from="2024-03-10") == [early]


async def test_report_never_shows_another_accounts_messages(api: Api) -> None:
    other_id, other_key = await _other_account(api)
    (mine,) = await _send(api, TURKCELL)
    group_id, theirs = await _send(api, TURKCELL, grouped=True, account_id=other_id)
    assert await _walk(api) == [mine]
    assert await _walk(api, group_id=group_id) == []
    body = _ok(await api.post("/reports/messages", {"api_key": other_key}))
    assert [m["sms_id"] for m in body["messages"]] == [theirs]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("limit", 0),
        ("limit", 5000),
        ("limit", -1),
        ("limit", "10"),
        ("limit", 2.5),
        ("limit", True),
        ("limit", None),
        ("cursor", "not a cursor"),
        ("cursor", "00000000000000zz"),
        ("cursor", 12),
        ("date_from", "2024-02-30"),
        ("date_from", "2024/03/01"),
        ("date_to", "20240301"),
        ("date_to", "2024-03-01T00:00:00"),
        ("date_to", 20240301),
        ("status", "bogus"),
        ("status", "QUEUED"),
        ("title", "x"),
        ("title", "ACME\x00"),
        ("number", ["905321234567"]),
        ("group_id", "abc"),
        ("group_id", 0),
    ],
)
async def test_report_with_a_bad_filter_is_ts_1035_naming_it(
    api: Api, field: str, value: object
) -> None:
    await _send(api, TURKCELL)
    body = _refused(await _report(api, **{field: value}), 400, "TS-1035")
    assert [error["field"] for error in body["errors"]] == [field]


@pytest.mark.parametrize("number", ["123", "not a number", "0212"])
async def test_report_with_an_invalid_number_is_ts_1034(api: Api, number: str) -> None:
    body = _refused(await _report(api, number=number), 400, "TS-1034")
    assert [error["field"] for error in body["errors"]] == ["number"]


async def test_bad_queries_change_nothing(api: Api) -> None:
    ids = await _send(api, TURKCELL, VODAFONE)

    async def snapshot() -> list[tuple]:
        async with api.db.read() as conn:
            return (await conn.execute(select(messages).order_by(messages.c.id))).all()

    before = await snapshot()
    for body in ({"limit": 0}, {"cursor": "?"}, {"date_from": "x"}, {"number": "1"}):
        assert (await _report(api, **body)).status_code == 400
    assert (await _status(api, "x")).status_code == 400
    assert await snapshot() == before
    assert await _walk(api) == ids[::-1]


# /reports/summary -------------------------------------------------------------------------------


async def _summary(api: Api, **dates: object) -> dict:
    return _ok(await api.post("/reports/summary", {"api_key": api.key, **dates}))


async def test_summary_counts_and_charges_per_istanbul_day_and_state(api: Api) -> None:
    await _topup(api, 1000)
    await _send(api, TURKCELL, at=MIDNIGHT - timedelta(seconds=1), segments=2)
    first, second = await _send(api, TURKCELL, VODAFONE, at=MIDNIGHT, segments=3)
    await _send(api, GERMAN, at=MIDNIGHT + timedelta(hours=23, minutes=59), segments=2)
    await _send(api, VODAFONE, at=MIDNIGHT + timedelta(hours=24))
    await _move(api, first, MessageStatus.DELIVERED)
    await _move(api, second, MessageStatus.FAILED)
    body = await _summary(api, date_from="2024-03-09", date_to="2024-03-11")
    assert (body["date_from"], body["date_to"]) == ("2024-03-09", "2024-03-11")
    assert body["days"] == [
        {
            "date": "2024-03-09",
            "status": "queued",
            "count": 1,
            "credits": 2,
            "international_kurus": 0,
        },
        {
            "date": "2024-03-10",
            "status": "queued",
            "count": 1,
            "credits": 0,
            "international_kurus": 300,
        },
        {
            "date": "2024-03-10",
            "status": "delivered",
            "count": 1,
            "credits": 3,
            "international_kurus": 0,
        },
        {
            "date": "2024-03-10",
            "status": "failed",
            "count": 1,
            "credits": 3,
            "international_kurus": 0,
        },
        {
            "date": "2024-03-11",
            "status": "queued",
            "count": 1,
            "credits": 1,
            "international_kurus": 0,
        },
    ]
    one_day = await _summary(api, date_from="2024-03-10", date_to="2024-03-10")
    assert [(d["date"], d["status"]) for d in one_day["days"]] == [
        ("2024-03-10", "queued"),
        ("2024-03-10", "delivered"),
        ("2024-03-10", "failed"),
    ]


async def test_summary_adds_up_to_the_report(api: Api) -> None:
    await _topup(api, 5000, kurus=10_000)
    for hour in range(0, 24 * 5, 7):
        ids = await _send(api, TURKCELL, GERMAN, at=MIDNIGHT + timedelta(hours=hour), segments=2)
        await _move(api, ids[0], list(MessageStatus)[hour % 5])
    body = await _summary(api, date_from="2024-03-10", date_to="2024-03-14")
    listed = await _walk(api, date_from="2024-03-10", date_to="2024-03-14", limit=1000)
    assert sum(day["count"] for day in body["days"]) == len(listed) == 36
    assert sum(day["credits"] for day in body["days"]) == 18 * 2
    assert sum(day["international_kurus"] for day in body["days"]) == 18 * 2 * 150
    async with api.db.read() as conn:
        total = (
            await conn.execute(
                select(func.sum(messages.c.segments)).where(messages.c.account_id == api.account_id)
            )
        ).scalar_one()
    assert sum(day["credits"] for day in body["days"]) * 2 == total


async def test_summary_defaults_to_the_last_seven_days(api: Api) -> None:
    now = datetime.now(UTC)
    today = now.astimezone(ISTANBUL).date()
    await _send(api, TURKCELL, at=now)
    await _send(api, VODAFONE, at=now - timedelta(days=5))
    await _send(api, VODAFONE, at=now - timedelta(days=8))
    body = await _summary(api)
    assert body["date_to"] == today.isoformat()
    assert body["date_from"] == (today - timedelta(days=6)).isoformat()
    assert sum(day["count"] for day in body["days"]) == 2
    body = await _summary(api, date_to=(today - timedelta(days=1)).isoformat())
    assert body["date_from"] == (today - timedelta(days=7)).isoformat()
    assert sum(day["count"] for day in body["days"]) == 1


async def test_summary_covers_only_the_callers_account(api: Api) -> None:
    other_id, other_key = await _other_account(api)
    await _send(api, TURKCELL, account_id=other_id)
    assert (await _summary(api, date_from="2024-03-10", date_to="2024-03-10"))["days"] == []
    body = _ok(
        await api.post(
            "/reports/summary",
            {"api_key": other_key, "date_from": "2024-03-10", "date_to": "2024-03-10"},
        )
    )
    assert [day["count"] for day in body["days"]] == [1]


async def test_summary_at_the_ends_of_the_calendar(api: Api) -> None:
    await _send(api, TURKCELL)
    body = await _summary(api, date_from="0001-01-01", date_to="9999-12-31")
    assert [day["count"] for day in body["days"]] == [1]
    assert (await _summary(api, date_to="0001-01-02"))["date_from"] == "0001-01-01"


@pytest.mark.parametrize(
    ("field", "value"),
    [("date_from", "2024-13-01"), ("date_to", "yesterday"), ("date_from", 7), ("date_to", "")],
)
async def test_summary_with_a_bad_date_is_ts_1035(api: Api, field: str, value: object) -> None:
    response = await api.post("/reports/summary", {"api_key": api.key, field: value})
    body = _refused(response, 400, "TS-1035")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_a_rare_state_is_reported_walk_by_walk(api: Api) -> None:
    """Filtered by state, a page looks through so many messages at most: it may be short or
    empty and still have a cursor, and following the cursors finds every match once."""
    await _topup(api, 1000)
    api.services.reports.walk = 10
    ids: list[int] = []
    for minute in range(30):
        ids += await _send(api, TURKCELL, at=MIDNIGHT + timedelta(minutes=minute))
    for sms_id in ids[:3]:
        await _move(api, sms_id, MessageStatus.FAILED)
    pages: list[list[int]] = []
    cursor = None
    while True:
        given = {"cursor": cursor} if cursor else {}
        body = _ok(await _report(api, status="failed", limit=2, **given))
        pages.append([m["sms_id"] for m in body["messages"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # Ten messages a walk: two empty pages, then the oldest ten, in two pages of two and one.
    assert pages == [[], [], ids[2:0:-1], ids[:1]]
