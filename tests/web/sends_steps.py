"""Messages for the panel's report pages, made as the panel makes them (the sending service,
under the account's panel key) and moved along their lifecycle as the dispatcher would."""

from __future__ import annotations

import itertools

from ileti.domain.lifecycle import DELIVERED, OVERDUE, UNDELIVERED, MessageStatus
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import GroupSend, SingleSend
from ileti.store import lifecycle
from ileti.store.lifecycle import SubmittedPart
from ileti.web.pages import PanelCaller
from support.panel import Panel

_requests = itertools.count()
_FINISH = {
    MessageStatus.DELIVERED: (DELIVERED, None),
    MessageStatus.FAILED: (UNDELIVERED, "undeliverable"),
    MessageStatus.EXPIRED: (OVERDUE, None),
}


async def caller(panel: Panel, account_id: int | None = None) -> PanelCaller:
    account_id = account_id or panel.account_id
    return PanelCaller(account_id, await panel.services.keys.panel_key(account_id))


async def send(
    panel: Panel, number: str, text: str = "Merhaba", *, title: str = "ACME", account_id=None
) -> int:
    accepted = await panel.services.sending.single(
        await caller(panel, account_id),
        SingleSend(title=title, text=text, number=number),
        RequestIdentity.of("test", {"n": next(_requests)}, None),
    )
    return accepted.sms_id


async def send_group(panel: Panel, numbers: list[str], text: str = "Kampanya") -> int:
    accepted = await panel.services.sending.group(
        await caller(panel),
        GroupSend(title="ACME", numbers=numbers, text=text),
        RequestIdentity.of("test", {"n": next(_requests)}, None),
    )
    assert accepted.group_id is not None
    return accepted.group_id


async def move(panel: Panel, sms_id: int, status: MessageStatus) -> None:
    """Queued → sent → ``status``, at the panel's clock."""
    now = panel.clock.now()
    async with panel.db.write() as conn:
        await lifecycle.mark_sent(conn, [(sms_id, "sim", [SubmittedPart(1, f"op-{sms_id}")])], now)
        if status in _FINISH:
            step, reason = _FINISH[status]
            await lifecycle.finish(conn, [sms_id], step, now, reason)
