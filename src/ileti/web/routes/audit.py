"""The audit log (owners only): who changed what of the account's keys, webhooks and users, and
when; newest first, a page at a time."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from ileti.web.pages import Screen, page

PAGE_SIZE = 50
# Each action in the panel's words.
ACTIONS = {
    "key.create": "Key created",
    "key.enable": "Key enabled",
    "key.disable": "Key disabled",
    "key.revoke": "Key revoked",
    "webhook.set": "Webhook set",
    "webhook.rotate_secret": "Webhook secret rotated",
    "webhook.replay": "Webhook events sent again",
    "user.add": "User added",
    "user.reset_password": "Password reset",
    "user.remove": "User removed",
    "privacy.export": "Personal data exported",
    "privacy.erase": "Personal data erased",
    "child.create": "Customer account created",
    "child.suspend": "Customer account suspended",
    "child.reactivate": "Customer account reactivated",
    "child.price.set": "Customer's price set",
    "child.price.reset": "Customer's price reset",
}


@page(owner=True)
async def audit(screen: Screen) -> Response:
    before = screen.query.get("before", "")
    entries, next_before = await screen.services.audit.page(
        screen.account_id, limit=PAGE_SIZE, before=int(before) if before.isdigit() else None
    )
    return screen.render(
        "audit/list.html",
        entries=entries,
        next_before=next_before,
        paged=before.isdigit(),
        actions=ACTIONS,
    )


routes = [Route("/audit", audit, methods=["GET"])]
