"""Sends and reports: the list's filters and cursor pages, a message's and a group's detail,
the CSV export and the daily summary; and that another account's sends are never shown."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from ileti.domain.lifecycle import MessageStatus
from ileti.domain.schedule import ISTANBUL
from ileti.web.routes import sends as sends_pages
from support.panel import Panel
from web.sends_steps import move, send, send_group

ROW = re.compile(r'<tr data-sms-id="(\d+)"')
NEXT = re.compile(r'href="([^"]+)" rel="next"')


def _ids(html: str) -> list[int]:
    return [int(found) for found in ROW.findall(html)]


async def _walk(panel: Panel, path: str) -> list[int]:
    """Every id of a list, following its pages."""
    seen: list[int] = []
    while True:
        page = await panel.get(path)
        assert page.status_code == 200, page.text
        seen += _ids(page.text)
        following = NEXT.search(page.text)
        if following is None:
            return seen
        path = following.group(1).replace("&amp;", "&")


async def test_the_list_shows_the_accounts_messages_newest_first_never_the_rivals(
    panel: Panel,
) -> None:
    first = await send(panel, "0532 111 11 11")
    second = await send(panel, "905322222222")
    rival = await send(panel, "905323333333", title="RIVAL", account_id=panel.rival_account_id)
    page = await panel.get("/panel/sends")
    assert _ids(page.text) == [second, first]
    assert f"/panel/sends/message/{first}" in page.text
    assert "905321111111" in page.text
    theirs = await panel.get("/panel/sends", client=panel.rival.client)
    assert _ids(theirs.text) == [rival]


async def test_each_filter_narrows_the_list(panel: Panel) -> None:
    early = await send(panel, "905321111111")
    await move(panel, early, MessageStatus.DELIVERED)
    await _days_later(panel, 2)
    failed = await send(panel, "905322222222", "Bir")
    await move(panel, failed, MessageStatus.FAILED)
    queued = await send(panel, "905322222222", "İki")
    group_id = await send_group(panel, ["905324444444", "905325555555"])
    members = _ids((await panel.get(f"/panel/sends/group/{group_id}")).text)
    assert len(members) == 2
    everything = _ids((await panel.get("/panel/sends")).text)
    assert sorted(everything) == sorted([early, failed, queued, *members])

    by_state = await panel.get("/panel/sends?status=failed")
    assert _ids(by_state.text) == [failed]
    assert 'data-state="failed"' in by_state.text and "undeliverable" in by_state.text
    # A number as people write it finds the messages to it.
    assert _ids((await panel.get("/panel/sends?number=0532+222+22+22")).text) == [queued, failed]
    assert _ids((await panel.get(f"/panel/sends?group_id={group_id}")).text) == members
    # Dates are Istanbul's: from 21:00 UTC it is tomorrow there.
    today = panel.clock.now().astimezone(ISTANBUL).date().isoformat()
    days_ago = (panel.clock.now() - timedelta(days=2)).astimezone(ISTANBUL).date().isoformat()
    dated = await panel.get(f"/panel/sends?date_from={days_ago}&date_to={days_ago}")
    assert _ids(dated.text) == [early]
    assert early not in _ids((await panel.get(f"/panel/sends?date_from={today}")).text)
    assert _ids((await panel.get("/panel/sends?title=NOPE")).text) == []
    combined = await panel.get(f"/panel/sends?status=queued&number=905322222222&date_to={today}")
    assert _ids(combined.text) == [queued]


async def test_a_filter_that_is_not_one_says_so(panel: Panel) -> None:
    await send(panel, "905321111111")
    for query, said in (
        ("number=12", "TS-"),
        ("date_from=yesterday", "YYYY-MM-DD"),
        ("status=lost", "Choose a state"),
        ("group_id=abc", "whole number"),
        ("date_from=2026-12-05&date_to=2026-12-01", "comes after"),
    ):
        page = await panel.get(f"/panel/sends?{query}", client=await _english(panel))
        assert page.status_code == 400, query
        assert said in page.text and _ids(page.text) == [], query


async def _days_later(panel: Panel, days: int) -> None:
    """Time passes (the session idles out meanwhile: the owner logs in again)."""
    panel.clock.advance(days * 86400)
    panel.owner.client = await panel.login(panel.owner.email, panel.owner.password)


async def _english(panel: Panel):
    client = panel.owner.client
    await client.get("/panel/lang/en?next=/panel/")
    return client


async def test_pages_hold_every_message_once(panel: Panel) -> None:
    sent = [await send(panel, f"905320{n:06d}") for n in range(95)]
    walked = await _walk(panel, "/panel/sends")
    assert walked == sorted(sent, reverse=True)
    # A filtered walk keeps its filter on every page.
    await move(panel, sent[0], MessageStatus.DELIVERED)
    assert await _walk(panel, "/panel/sends?status=queued") == sorted(sent[1:], reverse=True)


async def test_the_csv_holds_the_filtered_list_with_a_bom(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of 7 rows: the file is written over many reads.
    monkeypatch.setattr(sends_pages, "EXPORT_PAGE", 7)
    sent = [await send(panel, f"905320{n:06d}", "Gönderim şöyle") for n in range(60)]
    for sms_id in sent[:7]:
        await move(panel, sms_id, MessageStatus.FAILED)
    await send(panel, "905329999999", account_id=panel.rival_account_id, title="RIVAL")
    for query in ("", "?status=failed", "?number=0532+000+00+05"):
        listed = await _walk(panel, f"/panel/sends{query}")
        answer = await panel.get(f"/panel/sends/export.csv{query}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        assert answer.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        header, body = rows[0], rows[1:]
        assert header[:2] == ["sms_id", "group_id"]
        assert [int(row[0]) for row in body] == listed, query
    failed = list(
        csv.DictReader(
            io.StringIO(
                (await panel.get("/panel/sends/export.csv?status=failed")).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert {row["sms_id"] for row in failed} == {str(sms_id) for sms_id in sent[:7]}
    assert {row["Durum"] for row in failed} == {"failed"}
    assert "905329999999" not in (await panel.get("/panel/sends/export.csv")).text


async def test_a_message_in_full(panel: Panel) -> None:
    sms_id = await send(panel, "905321234567", "Şirin ığdır çöğüş")
    await move(panel, sms_id, MessageStatus.FAILED)
    page = await panel.get(f"/panel/sends/message/{sms_id}")
    assert page.status_code == 200
    assert 'data-testid="message-state" data-state="failed"' in page.text
    assert "Şirin ığdır çöğüş" in page.text and "905321234567" in page.text
    assert "undeliverable" in page.text and f"op-{sms_id}" in page.text


async def test_a_group_with_its_counts_and_recipients(panel: Panel) -> None:
    group_id = await send_group(panel, [f"905320{n:06d}" for n in range(70)])
    members = await _walk(panel, f"/panel/sends/group/{group_id}")
    assert len(members) == len(set(members)) == 70
    await move(panel, members[0], MessageStatus.DELIVERED)
    await move(panel, members[1], MessageStatus.FAILED)
    page = await panel.get(f"/panel/sends/group/{group_id}")
    counts = dict(
        re.findall(
            r'data-state="(\w+)">\s*<span class="label">[^<]*</span>\s*'
            r'<span class="value">(\d+)</span>',
            page.text,
        )
    )
    assert counts == {"queued": "68", "sent": "0", "delivered": "1", "failed": "1", "expired": "0"}
    assert "undeliverable" in page.text


async def test_another_accounts_message_and_group_are_not_found(panel: Panel) -> None:
    theirs = await send(panel, "905321111111", title="RIVAL", account_id=panel.rival_account_id)
    mine = await send_group(panel, ["905322222222"])
    for path in (
        f"/panel/sends/message/{theirs}",
        f"/panel/sends/message/{mine}",  # a group's id is no message
        "/panel/sends/message/99999999999999999999999",
    ):
        assert (await panel.get(path)).status_code == 404, path
    rival_group = await panel.get(f"/panel/sends/group/{mine}", client=panel.rival.client)
    assert rival_group.status_code == 404
    assert (await panel.get(f"/panel/sends/group/{theirs}")).status_code == 404
    # By a filter: the rival's group id lists nothing of it.
    rivals = await panel.get(f"/panel/sends?group_id={mine}", client=panel.rival.client)
    assert _ids(rivals.text) == []
    csv_text = (
        await panel.get(f"/panel/sends/export.csv?group_id={mine}", client=panel.rival.client)
    ).text
    assert "905322222222" not in csv_text


async def test_the_daily_summary_counts_and_charges_per_state(panel: Panel) -> None:
    for n in range(3):
        sms_id = await send(panel, f"90532000000{n}")
        await move(panel, sms_id, MessageStatus.DELIVERED if n else MessageStatus.FAILED)
    await send(panel, "905321111111", title="RIVAL", account_id=panel.rival_account_id)
    today = panel.clock.now().astimezone(ISTANBUL).date().isoformat()
    page = await panel.get(f"/panel/sends/summary?from={today}&to={today}")
    assert page.status_code == 200
    rows = re.findall(
        r'data-state="(\w+)">.*?<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>',
        page.text,
        re.S,
    )
    assert rows == [("delivered", "2", "2"), ("failed", "1", "1")]
    assert (
        await panel.get("/panel/sends/summary?from=2026-12-09&to=2026-12-01")
    ).status_code == 400


async def test_an_erased_message_says_its_text_was_removed(panel: Panel) -> None:
    kept = await send(panel, "905321111111", text="Sayın Ayşe, borcunuz 120 TL")
    gone = await send(panel, "905322222222", text="Sayın Mehmet, borcunuz 80 TL")
    await panel.services.privacy.erase("905322222222")
    shown = (await panel.get(f"/panel/sends/message/{kept}")).text
    assert "Sayın Ayşe, borcunuz 120 TL" in shown
    erased = (await panel.get(f"/panel/sends/message/{gone}")).text
    assert "Mehmet" not in erased and "905322222222" not in erased
    assert "Metin silindi" in erased or "The text was removed" in erased


async def test_a_rare_state_is_searched_a_walk_at_a_time(panel: Panel) -> None:
    # Ten messages a page looks through: the list says so where it stops short, and links on.
    panel.services.reports.walk = 10
    sent = [await send(panel, f"905320{n:06d}") for n in range(25)]
    failed = [sent[0], sent[1], sent[12]]
    for sms_id in failed:
        await move(panel, sms_id, MessageStatus.FAILED)
    first = await panel.get("/panel/sends?status=failed")
    assert first.status_code == 200 and _ids(first.text) == []
    assert "Aranan son 10 mesajda başka sonuç yok." in first.text
    assert "Bu süzgeçlere uyan mesaj yok." not in first.text
    # One link on, the pager's: to the messages below those looked through, filter kept.
    assert NEXT.findall(first.text) == [f"/panel/sends?status=failed&amp;before={sent[15]}"]
    second = await panel.get(f"/panel/sends?status=failed&before={sent[15]}")
    assert _ids(second.text) == [sent[12]]
    assert "Aranan son 10 mesajda" in second.text and NEXT.search(second.text)
    assert await _walk(panel, "/panel/sends?status=failed") == failed[::-1]
    # In English, with the same link.
    english = await panel.get("/panel/sends?status=failed", client=await _english(panel))
    assert "No more among the latest 10 messages searched." in english.text
    assert "Search older messages →" in english.text
    assert NEXT.findall(english.text) == NEXT.findall(first.text)
    # The export goes on to the end: every failed message, however many walks it takes.
    exported = await panel.get("/panel/sends/export.csv?status=failed")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))[1:]
    assert [int(row[0]) for row in rows] == failed[::-1]
    # Without a state or title, the list is as before: one page here, nothing said.
    everything = await panel.get("/panel/sends")
    assert "Aranan" not in everything.text and NEXT.search(everything.text) is None
