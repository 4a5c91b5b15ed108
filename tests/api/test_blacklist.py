"""/blacklist/add, /blacklist/remove and /blacklist/list as a client sees them."""

from __future__ import annotations

import itertools
import re

import httpx
import pytest
from sqlalchemy import insert, select

from ileti.domain.clock import utcnow
from ileti.domain.permissions import Permission
from ileti.store import accounts
from ileti.store.models import BlacklistEntry
from support.api import Api

NUMBER = "905321234567"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")

blacklist = BlacklistEntry.__table__


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["result"], body["result_code"]) == (True, "TS-1064")
    return body


def _refused(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["result"], body["result_code"]) == (False, code)
    return body


async def _add(api: Api, number: object, key: str | None = None) -> httpx.Response:
    return await api.post("/blacklist/add", {"api_key": key or api.key, "number": number})


async def _remove(api: Api, number: object, key: str | None = None) -> httpx.Response:
    return await api.post("/blacklist/remove", {"api_key": key or api.key, "number": number})


async def _list(api: Api, key: str | None = None, **page: object) -> dict:
    return _ok(await api.post("/blacklist/list", {"api_key": key or api.key, **page}))


async def _listed(api: Api, key: str | None = None) -> list[tuple[str, str, str]]:
    return [(n["number"], n["scope"], n["source"]) for n in (await _list(api, key))["numbers"]]


_sends = itertools.count()


async def _blocked(api: Api, advertising: bool) -> set[str]:
    """What the send path refuses for this account: {NUMBER} if a send to it is TS-1044."""
    reply = await api.post(
        "/sms/send",
        {
            "api_key": api.key,
            "title": "ACME",
            "sentto": NUMBER,
            # A new text each time: an identical request would get its first answer again.
            "text": f"message {next(_sends)}",
            "content_type": 2 if advertising else 0,
        },
    )
    code = reply.json()["result_code"]
    assert code in {"TS-1024", "TS-1044"}, reply.text
    return {NUMBER} if code == "TS-1044" else set()


async def _opt_out_by_sms(api: Api, number: str = NUMBER) -> None:
    """A recipient's RET, as the inbound handler records it."""
    async with api.db.write() as conn:
        await conn.execute(
            insert(blacklist).values(
                account_id=api.account_id,
                number=number,
                scope="advertising",
                source="sms",
                created_at=utcnow(),
            )
        )


async def test_add_lists_the_number_in_its_normal_form(api: Api) -> None:
    body = _ok(await _add(api, "+90 532 123 45 67"))
    assert body["number"] == NUMBER
    (entry,) = (await _list(api))["numbers"]
    assert entry.keys() == {"number", "scope", "source", "created_at"}
    assert (entry["number"], entry["scope"], entry["source"]) == (NUMBER, "all", "api")
    assert TIMESTAMP.fullmatch(entry["created_at"])
    assert await _blocked(api, advertising=False) == {NUMBER}


async def test_adding_twice_in_any_form_keeps_one_entry(api: Api) -> None:
    for number in (NUMBER, "0532 123 45 67", 5321234567, "5321234567"):
        assert _ok(await _add(api, number))["number"] == NUMBER
    assert await _listed(api) == [(NUMBER, "all", "api")]


async def test_add_widens_a_recipients_opt_out_and_remove_narrows_it_back(api: Api) -> None:
    await _opt_out_by_sms(api)
    assert await _blocked(api, advertising=False) == set()
    _ok(await _add(api, NUMBER))
    assert await _listed(api) == [(NUMBER, "all", "sms")]
    assert await _blocked(api, advertising=False) == {NUMBER}
    _ok(await _remove(api, NUMBER))
    # The recipient's own opt-out stays: advertising is still refused.
    assert await _listed(api) == [(NUMBER, "advertising", "sms")]
    assert await _blocked(api, advertising=True) == {NUMBER}
    assert await _blocked(api, advertising=False) == set()
    body = _refused(await _remove(api, NUMBER), 404, "TS-1039")
    assert "RET" in body["result_message"]
    assert await _listed(api) == [(NUMBER, "advertising", "sms")]


async def test_remove_takes_the_number_off(api: Api) -> None:
    _ok(await _add(api, NUMBER))
    assert _ok(await _remove(api, "0532 123 45 67"))["number"] == NUMBER
    assert await _listed(api) == []
    assert await _blocked(api, advertising=True) == set()


async def test_removing_an_absent_number_is_ts_1039(api: Api) -> None:
    _refused(await _remove(api, NUMBER), 404, "TS-1039")
    _ok(await _add(api, NUMBER))
    _ok(await _remove(api, NUMBER))
    _refused(await _remove(api, NUMBER), 404, "TS-1039")


async def test_accounts_see_and_change_only_their_own_blacklist(api: Api) -> None:
    async with api.db.write() as conn:
        other = await accounts.create_account(conn, "globex", utcnow())
    other_key = await api.new_key(other.id)
    _ok(await _add(api, NUMBER))
    assert await _listed(api, other_key) == []
    _refused(await _remove(api, NUMBER, other_key), 404, "TS-1039")
    assert await _listed(api) == [(NUMBER, "all", "api")]
    _ok(await _add(api, NUMBER, other_key))
    _ok(await _remove(api, NUMBER))
    assert await _listed(api) == []
    assert await _listed(api, other_key) == [(NUMBER, "all", "api")]


async def test_no_permission_is_needed_beyond_a_valid_key(api: Api) -> None:
    key = await api.new_key(deny=set(Permission))
    _ok(await _add(api, NUMBER, key))
    assert await _listed(api, key) == [(NUMBER, "all", "api")]
    _ok(await _remove(api, NUMBER, key))
    _refused(await _add(api, NUMBER, "ilt_0000000000_" + "a" * 43), 401, "TS-1031")


@pytest.mark.parametrize("number", ["123", "not a number", "+90 212", "", "90532123456789012"])
async def test_an_invalid_number_is_ts_1034_and_changes_nothing(api: Api, number: str) -> None:
    for call in (_add, _remove):
        body = _refused(await call(api, number), 400, "TS-1034")
        assert [error["field"] for error in body["errors"]] == ["number"]
    assert await _listed(api) == []


@pytest.mark.parametrize(
    "body", [{}, {"number": None}, {"number": ["905321234567"]}, {"number": True}]
)
async def test_a_missing_or_mistyped_number_is_ts_1035(api: Api, body: dict) -> None:
    for path in ("/blacklist/add", "/blacklist/remove"):
        response = await api.post(path, {"api_key": api.key, **body})
        assert [error["field"] for error in _refused(response, 400, "TS-1035")["errors"]] == [
            "number"
        ]
    assert await _listed(api) == []


async def test_list_pages_walk_every_number_once_newest_first(api: Api) -> None:
    numbers = [f"90532123450{i}" for i in range(7)]
    for number in numbers:
        _ok(await _add(api, number))
    for limit in (1, 3, 7, 1000):
        seen: list[str] = []
        page = await _list(api, limit=limit)
        while True:
            seen += [n["number"] for n in page["numbers"]]
            if page["next_cursor"] is None:
                break
            assert len(page["numbers"]) == limit
            page = await _list(api, limit=limit, cursor=page["next_cursor"])
        assert seen == numbers[::-1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("limit", 0),
        ("limit", 5000),
        ("limit", "3"),
        ("cursor", "bogus"),
        ("cursor", "FFFFFFFFFFFFFFFF"),
        ("cursor", 5),
    ],
)
async def test_list_with_a_bad_page_is_ts_1035(api: Api, field: str, value: object) -> None:
    _ok(await _add(api, NUMBER))
    response = await api.post("/blacklist/list", {"api_key": api.key, field: value})
    assert [error["field"] for error in _refused(response, 400, "TS-1035")["errors"]] == [field]
    async with api.db.read() as conn:
        assert len((await conn.execute(select(blacklist))).all()) == 1


async def test_a_cursor_beyond_every_entry_starts_from_the_newest(api: Api) -> None:
    _ok(await _add(api, NUMBER))
    assert [n["number"] for n in (await _list(api, cursor="f" * 16))["numbers"]] == [NUMBER]
