"""Cancelling from a message's or a group's page: offered while something has not left,
confirmed on a page of its own (a plain form), refunded, shown as cancelled; never another
account's."""

from __future__ import annotations

import re

from ileti.domain.lifecycle import MessageStatus
from ileti.reporting.reports import MessageQuery, MessageView
from support.panel import Panel
from web.sends_steps import move, send, send_group

OFFER = 'data-testid="cancel"'


async def _credits(panel: Panel, account_id: int | None = None) -> int:
    return (await panel.services.accounts.balances(account_id or panel.account_id)).credits


async def _state(panel: Panel, sms_id: int, account_id: int | None = None) -> str:
    found = await panel.services.reports.status(account_id or panel.account_id, sms_id)
    assert isinstance(found, MessageView)
    return found.status


async def test_a_group_is_cancelled_after_confirming(panel: Panel) -> None:
    group_id = await send_group(panel, ["905321111111", "905322222222", "905323333333"])
    assert await _credits(panel) == 97
    page = await panel.get(f"/panel/sends/group/{group_id}")
    assert OFFER in page.text and f"/panel/sends/group/{group_id}/cancel" in page.text
    assert "3 mesaj henüz operatöre teslim edilmedi." in page.text
    confirm = await panel.get(f"/panel/sends/group/{group_id}/cancel")
    assert confirm.status_code == 200
    assert 'name="csrf"' in confirm.text and 'data-testid="confirm-cancel"' in confirm.text
    assert "3 mesaj" in confirm.text
    # Looking at the confirmation changed nothing.
    assert await _credits(panel) == 97
    done = await panel.post(f"/panel/sends/group/{group_id}/cancel")
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith(f"/panel/sends/group/{group_id}?")
    after = await panel.get(location)
    assert "3 mesaj iptal edildi." in after.text
    assert "3 kredi bakiyenize geri yüklendi." in after.text
    assert OFFER not in after.text
    assert 'data-state="cancelled"' in after.text and "İptal edildi" in after.text
    assert await _credits(panel) == 100


async def test_a_single_message_in_english(panel: Panel) -> None:
    sms_id = await send(panel, "905321111111")
    client = panel.owner.client
    await client.get("/panel/lang/en?next=/panel/")
    page = await panel.get(f"/panel/sends/message/{sms_id}")
    assert "Cancel sending" in page.text
    assert "1 message has not been handed to an operator yet." in page.text
    confirm = await panel.get(f"/panel/sends/message/{sms_id}/cancel")
    assert "This message has not been handed to an operator yet. Cancel it?" in confirm.text
    done = await panel.post(f"/panel/sends/message/{sms_id}/cancel")
    after = await panel.get(done.headers["location"])
    assert "1 message was cancelled. 1 credit went back to your balance." in _flat(after.text)
    assert 'data-testid="message-state" data-state="cancelled"' in after.text
    assert await _state(panel, sms_id) == "cancelled"


async def test_the_cancelled_state_is_a_filter_of_the_list(panel: Panel) -> None:
    kept = await send(panel, "905321111111")
    gone = await send(panel, "905322222222")
    await panel.post(f"/panel/sends/message/{gone}/cancel")
    page = await panel.get("/panel/sends?status=cancelled")
    assert page.status_code == 200
    assert '<option value="cancelled" selected' in page.text
    assert f'data-sms-id="{gone}"' in page.text and f'data-sms-id="{kept}"' not in page.text
    dashboard = await panel.get("/panel/")
    assert 'data-state="cancelled"' in dashboard.text


async def test_what_has_left_is_not_offered_and_a_late_cancel_says_so(panel: Panel) -> None:
    group_id = await send_group(panel, ["905321111111", "905322222222"])
    sent = await send(panel, "905323333333")
    await move(panel, sent, MessageStatus.DELIVERED)
    page = await panel.get(f"/panel/sends/message/{sent}")
    assert OFFER not in page.text
    confirm = await panel.get(f"/panel/sends/message/{sent}/cancel")
    assert 'data-testid="confirm-cancel"' not in confirm.text
    late = await panel.post(f"/panel/sends/message/{sent}/cancel")
    after = await panel.get(late.headers["location"])
    assert "Hiçbir mesaj iptal edilmedi" in after.text
    assert await _state(panel, sent) == "delivered"
    # Part of a group gone: the rest is offered, the outcome counts what was left.
    page, _ = await panel.services.reports.messages(
        panel.account_id, MessageQuery(group_id=group_id)
    )
    members = [m.id for m in page]
    await move(panel, members[0], MessageStatus.SENT)
    done = await panel.post(f"/panel/sends/group/{group_id}/cancel")
    after = await panel.get(done.headers["location"])
    assert "1 mesaj iptal edildi." in after.text
    assert "1 mesaj iptal edilemedi" in after.text


async def test_a_member_may_cancel(panel: Panel) -> None:
    sms_id = await send(panel, "905321111111")
    done = await panel.post(f"/panel/sends/message/{sms_id}/cancel", client=panel.member.client)
    assert done.status_code == 303
    assert await _state(panel, sms_id) == "cancelled"


async def test_another_accounts_send_is_not_found_and_stays(panel: Panel) -> None:
    theirs = await send(panel, "905321111111", title="RIVAL", account_id=panel.rival_account_id)
    before = await _credits(panel, panel.rival_account_id)
    for path in (
        f"/panel/sends/message/{theirs}/cancel",
        f"/panel/sends/group/{theirs}/cancel",
        "/panel/sends/message/987654321/cancel",
    ):
        assert (await panel.get(path)).status_code == 404
        assert (await panel.post(path)).status_code == 404
    assert await _state(panel, theirs, panel.rival_account_id) == "queued"
    assert await _credits(panel, panel.rival_account_id) == before


async def test_a_cancel_without_the_forms_token_is_refused(panel: Panel) -> None:
    sms_id = await send(panel, "905321111111")
    refused = await panel.owner.client.post(f"/panel/sends/message/{sms_id}/cancel", data={})
    assert refused.status_code == 403
    assert await _state(panel, sms_id) == "queued"


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
