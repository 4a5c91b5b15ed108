"""The dashboard: balances, today's messages by state, the last 14 days, the last sends and
what is waiting, each as the messages the account sent make them."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from ileti.domain.lifecycle import MessageStatus
from ileti.domain.schedule import ISTANBUL
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import Schedule, SingleSend
from support.panel import Panel
from web.sends_steps import caller, move, send, send_group


def _today(html: str) -> dict[str, int]:
    section = html.split('data-testid="today"', 1)[1].split("</div>", 1)[0]
    return {
        state: int(value.replace(".", "").replace(",", ""))
        for state, value in re.findall(
            r'data-state="(\w+)"[^>]*>\s*<span class="label">[^<]*</span>\s*'
            r'<span class="value">([\d.,]+)</span>',
            section,
        )
    }


def _waiting(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-waiting="(\w+)">.*?<b>(\d+)</b>', html)}


def _chart(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html)
    assert found
    return json.loads(found.group(1))


async def test_the_dashboard_counts_what_the_account_sent(panel: Panel) -> None:
    for status, many in (
        (MessageStatus.DELIVERED, 3),
        (MessageStatus.FAILED, 2),
        (MessageStatus.EXPIRED, 1),
        (MessageStatus.SENT, 1),
        (MessageStatus.QUEUED, 2),
    ):
        for _ in range(many):
            sms_id = await send(panel, "905321234567")
            if status != MessageStatus.QUEUED:
                await move(panel, sms_id, status)
    await send(panel, "905321234567", title="RIVAL", account_id=panel.rival_account_id)
    page = await panel.get("/panel/")
    assert page.status_code == 200
    # 9 credits charged, 3 given back for the failed and the expired.
    assert 'data-testid="balance-main">94<' in page.text
    assert _today(page.text) == {
        "queued": 2,
        "sent": 1,
        "delivered": 3,
        "failed": 2,
        "expired": 1,
        "cancelled": 0,
    }
    assert _waiting(page.text) == {"scheduled": 0, "queued": 2, "sent": 1}
    chart = _chart(page.text)
    assert len(chart["days"]) == 14
    values = {series["state"]: series["values"] for series in chart["series"]}
    assert values == {
        "delivered": [0] * 13 + [3],
        "failed": [0] * 13 + [2],
        "expired": [0] * 13 + [1],
    }
    # The same numbers in a table, for readers without the chart; days are Istanbul's.
    today = panel.clock.now().astimezone(ISTANBUL).date().isoformat()
    assert re.search(
        rf'data-day="{today}">.*?data-state="delivered">3<.*?data-state="failed">2<', page.text
    )


async def test_the_last_days_and_the_last_sends(panel: Panel) -> None:
    old = await send(panel, "905320000001")
    await move(panel, old, MessageStatus.DELIVERED)
    panel.clock.advance(3 * 86400)
    panel.owner.client = await panel.login(panel.owner.email, panel.owner.password)
    group_id = await send_group(panel, ["905320000002", "905320000003"])
    singles = [await send(panel, f"9053200001{n:02d}") for n in range(10)]
    page = await panel.get("/panel/")
    values = {series["state"]: series["values"] for series in _chart(page.text)["series"]}
    assert values["delivered"] == [0] * 10 + [1, 0, 0, 0]
    recent = page.text.split('data-testid="recent"', 1)[1]
    links = re.findall(r'href="/panel/sends/(message|group)/(\d+)"', recent)
    # Ten sends, newest first: the group made before the ten singles is the eleventh.
    assert links[:10] == [("message", str(n)) for n in reversed(singles)]
    assert ("group", str(group_id)) not in links[:10]
    more = await send_group(panel, ["905320000004"])
    links = re.findall(
        r'href="/panel/sends/(message|group)/(\d+)"',
        (await panel.get("/panel/")).text.split('data-testid="recent"', 1)[1],
    )
    assert links[0] == ("group", str(more)) and len(set(links[:10])) == 10


async def test_a_scheduled_message_waits_apart(panel: Panel) -> None:
    later = (panel.clock.now() + timedelta(days=2)).astimezone(ISTANBUL)
    schedule = Schedule(1, later.date().isoformat(), later.strftime("%H:%M"))
    await panel.services.sending.single(
        await caller(panel),
        SingleSend(title="ACME", text="Sonra", number="905321234567", schedule=schedule),
        RequestIdentity.of("test", {"later": True}, None),
    )
    await send(panel, "905321234567")
    assert _waiting((await panel.get("/panel/")).text) == {"scheduled": 1, "queued": 1, "sent": 0}


async def test_the_dashboard_in_english(panel: Panel) -> None:
    await send(panel, "905321234567")
    client = panel.owner.client
    await client.get("/panel/lang/en?next=/panel/")
    page = await client.get("/panel/")
    assert "Last sends" in page.text and "Queued to go out" in page.text
