"""Sender IDs in the panel: their states, and a request that waits for the operator."""

from __future__ import annotations

import pytest

from ileti.domain.titles import TitleStatus
from support.panel import Panel

pytestmark = pytest.mark.usefixtures("english")


def _states(text: str) -> dict[str, str]:
    """Each title on the page and the state it shows."""
    table = text.split('data-testid="titles"')[1].split("</table>")[0]
    found = {}
    for row in table.split("<tr>")[2:]:
        title = row.split('<td class="mono">')[1].split("<")[0]
        found[title] = row.split('data-testid="title-state">')[1].split("<")[0]
    return found


async def _titles(panel: Panel) -> dict[str, str]:
    return {t.title: t.status for t in await panel.services.accounts.titles(panel.account_id)}


async def test_a_requested_title_is_pending_until_the_operator_approves_it(panel: Panel) -> None:
    assert _states((await panel.get("/panel/titles")).text) == {"ACME": "active"}
    asked = await panel.post(
        "/panel/titles", {"title": "Acme Shop", "reason": "Our web shop's order messages"}
    )
    assert asked.status_code == 303
    page = await panel.get(asked.headers["location"])
    assert "pending until the operator approves it" in page.text
    assert _states(page.text) == {"Acme Shop": "pending approval", "ACME": "active"}
    assert "Our web shop&#39;s order messages" in page.text

    await panel.services.accounts.set_title("acme", "Acme Shop", TitleStatus.ACTIVE)
    approved = await panel.get("/panel/titles")
    assert _states(approved.text)["Acme Shop"] == "active"


@pytest.mark.parametrize(
    ("title", "reason", "said"),
    [
        ("AB", "a reason", "3 to 11 characters"),
        ("ACME_SHOP", "a reason", "3 to 11 characters"),
        ("A VERY LONG TITLE", "a reason", "3 to 11 characters"),
        ("", "a reason", "Invalid field title: is required."),
        ("NEWCO", "  ", "Invalid field reason: is required."),
        ("ACME", "again", "the account has this sender ID already"),
    ],
)
async def test_a_refused_request_says_why_and_adds_nothing(
    panel: Panel, title: str, reason: str, said: str
) -> None:
    answer = await panel.post("/panel/titles", {"title": title, "reason": reason})
    assert answer.status_code == 400
    assert said in answer.text and "TS-1035" in answer.text
    # What was typed stays in the form.
    assert f'value="{title}"' in answer.text
    assert await _titles(panel) == {"ACME": "active"}


async def test_the_refusal_and_the_page_in_turkish(panel: Panel) -> None:
    member = panel.member.client
    page = await member.get("/panel/titles")
    assert "Yeni başlık talep et" in page.text and ">etkin<" in page.text
    answer = await panel.post("/panel/titles", {"title": "AB", "reason": "x"}, client=member)
    assert "Başlık 3 ile 11 karakter olmalı" in answer.text


async def test_another_accounts_titles_are_not_shown(panel: Panel) -> None:
    await panel.post("/panel/titles", {"title": "SECRET", "reason": "launch"})
    rivals = await panel.get("/panel/titles", client=panel.rival.client)
    assert _states(rivals.text) == {"RIVAL": "active"}
    # The same title is the rival's own request, not a clash with acme's.
    asked = await panel.post(
        "/panel/titles", {"title": "SECRET", "reason": "ours"}, client=panel.rival.client
    )
    assert asked.status_code == 303
    assert await _titles(panel) == {"ACME": "active", "SECRET": "pending"}
