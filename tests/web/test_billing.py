"""Billing in the panel: the ledger of both balances, newest first, paged and filtered, and the
price list; never another account's entries."""

from __future__ import annotations

import re

import pytest

from ileti.domain.pricing import Balance
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import SingleSend
from ileti.web.pages import PanelCaller
from support.panel import Panel

pytestmark = pytest.mark.usefixtures("english")


def _rows(text: str) -> list[list[str]]:
    """The ledger's rows as the cells' texts."""
    table = text.split('data-testid="ledger"')[1].split("</table>")[0]
    rows = []
    for row in table.split("<tr>")[2:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells])
    return rows


async def test_the_ledger_shows_both_balances_newest_first(panel: Panel) -> None:
    accounts = panel.services.accounts
    await accounts.top_up("acme", Balance.MAIN, 50)
    await accounts.top_up("acme", Balance.INTERNATIONAL, 12_345)
    page = await panel.get("/panel/billing")
    rows = _rows(page.text)
    assert [row[1:5] for row in rows] == [
        ["Top-up", "+123.45 TL", "123.45 TL", "International"],
        ["Top-up", "+50", "150", "Credits"],
        ["Top-up opening balance", "+100", "100", "Credits"],
    ]
    assert all(row[5].startswith("topup:") for row in rows)
    assert 'data-testid="balance-main">150<' in page.text

    international = _rows((await panel.get("/panel/billing?balance=international")).text)
    assert [row[4] for row in international] == ["International"]
    credits = _rows((await panel.get("/panel/billing?balance=main")).text)
    assert [row[3] for row in credits] == ["150", "100"]


async def test_a_send_is_a_debit_with_its_reference(panel: Panel) -> None:
    caller = PanelCaller(panel.account_id, await panel.services.keys.panel_key(panel.account_id))
    send = SingleSend(title="ACME", text="Merhaba", number="05321234567")
    accepted = await panel.services.sending.single(
        caller, send, RequestIdentity.of("test", {"n": 1}, None)
    )
    [debit, _] = _rows((await panel.get("/panel/billing")).text)
    assert debit[1:6] == ["Sending", "−1", "99", "Credits", f"message:{accepted.sms_id}"]


async def test_the_ledger_pages_by_cursor(panel: Panel) -> None:
    for n in range(1, 61):
        await panel.services.accounts.top_up("acme", Balance.MAIN, n)
    first = await panel.get("/panel/billing?balance=main")
    assert len(_rows(first.text)) == 50
    assert _rows(first.text)[0][2] == "+60"
    found = re.search(
        r'href="(/panel/billing\?balance=main&amp;before=\d+)" rel="next"', first.text
    )
    assert found
    second = await panel.get(found.group(1).replace("&amp;", "&"))
    rest = _rows(second.text)
    assert [row[2] for row in rest] == [f"+{n}" for n in range(10, 0, -1)] + ["+100"]
    assert 'rel="next"' not in second.text


async def test_another_accounts_ledger_is_never_shown(panel: Panel) -> None:
    await panel.services.accounts.top_up("rival", Balance.MAIN, 777)
    mine = await panel.get("/panel/billing")
    # "+777" as the ledger shows a top-up: a bare "777" can be part of a random token.
    assert "+777" not in mine.text and len(_rows(mine.text)) == 1
    theirs = await panel.get("/panel/billing", client=panel.rival.client)
    assert "+777" in theirs.text


async def test_the_price_list_in_both_languages(panel: Panel) -> None:
    await panel.services.prices.set("DE", 175)
    english = await panel.get("/panel/billing")
    prices = english.text.split('data-testid="prices"')[1]
    assert "1 credit" in prices
    assert re.search(r"<td>Germany</td><td>DE</td><td class=\"num\">1.75 TL</td>", prices)
    assert re.search(r"Every other country</td><td>—</td><td class=\"num\">2.50 TL<", prices)
    turkish = await panel.get("/panel/billing", client=panel.member.client)
    prices = turkish.text.split('data-testid="prices"')[1]
    assert '<td>Almanya</td><td>DE</td><td class="num">1,75 TL</td>' in prices
    assert "Diğer tüm ülkeler" in prices and "Hesap hareketleri" in turkish.text
