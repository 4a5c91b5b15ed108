"""API keys (owners only): the account's keys, a new one shown once, API access switched on
and off, revocation after a confirmation; and each key's webhook: where its events go, a test
event, the latest deliveries with their attempts, dead events and their replay, and a new
secret shown once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ileti.accounts.keys import NotANetwork
from ileti.accounts.webhooks import KeyWebhook, PrivateReceiver, WebhookChange
from ileti.codes import GatewayError
from ileti.domain.errors import NotFound
from ileti.domain.permissions import GRANTED_BY_DEFAULT, Permission
from ileti.domain.webhooks import EventType
from ileti.web.pages import Screen, page

PERMISSION_NAMES = {
    Permission.SEND_SINGLE_SMS: "Single SMS",
    Permission.SEND_OTP: "OTP",
    Permission.SEND_BULK_SMS: "Bulk SMS",
    Permission.CHECK_BALANCE: "Balance",
    Permission.CHECK_SMS_STATUS: "SMS status",
    Permission.MANAGE_SUBACCOUNTS: "Manage customer accounts",
}
# What a webhook can ask for; the test event always goes.
EVENTS = tuple(e for e in EventType if e is not EventType.KEY_TEST)


def _offered(screen: Screen) -> dict[Permission, str]:
    """The permissions a key of this account may hold: a reseller's customer has no customers
    to manage."""
    if screen.user.is_customer:
        managing = Permission.MANAGE_SUBACCOUNTS
        return {p: name for p, name in PERMISSION_NAMES.items() if p is not managing}
    return PERMISSION_NAMES


def _key_id(screen: Screen) -> int:
    return int(screen.request.path_params["key_id"])


def _at(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


# The keys.


@page(owner=True)
async def keys(screen: Screen) -> Response:
    if screen.form is None:
        return await _keys_page(screen)
    chosen = {p for p in _offered(screen) if screen.field(p.value)}
    allowed_ips = [
        line.strip() for line in screen.field("allowed_ips").splitlines() if line.strip()
    ]
    limit = screen.field("per_minute").strip()
    form = {"chosen": chosen, "allowed_ips": screen.field("allowed_ips"), "per_minute": limit}
    per_minute: int | None = None
    if limit:
        try:
            per_minute = int(limit)
        except ValueError:
            error = screen.t.text("The per-minute limit is a whole number (0: no limit).")
            return await _keys_page(screen, status=400, error=error, form=form)
    try:
        key, _ = await screen.services.keys.create_for(
            screen.account_id,
            permissions=chosen,
            allow_ips=allowed_ips,
            per_minute=per_minute,
            actor=screen.user.email,
        )
    except NotANetwork as refused:
        error = screen.t.text(
            "“{line}” is not an IP address or network (write one per line, e.g. 192.0.2.10"
            " or 198.51.100.0/24).",
            line=refused.line,
        )
        return await _keys_page(screen, status=400, error=error, form=form)
    except ValueError as refused:
        return await _keys_page(screen, status=400, error=screen.t.text(str(refused)), form=form)
    return await _keys_page(screen, new_key=key)


async def _keys_page(screen: Screen, status: int = 200, **context: Any) -> Response:
    context.setdefault("form", {"chosen": GRANTED_BY_DEFAULT, "allowed_ips": "", "per_minute": ""})
    return screen.render(
        "keys/list.html",
        status=status,
        keys=await screen.services.keys.of_account(screen.account_id),
        permissions=_offered(screen),
        default_per_minute=screen.services.settings.default_per_minute,
        done=screen.query.get("done", ""),
        **context,
    )


@page(owner=True)
async def switch_api(screen: Screen) -> Response:
    enabled = screen.field("enabled") == "1"
    try:
        await screen.services.keys.switch_api_of(
            screen.account_id, _key_id(screen), enabled, actor=screen.user.email
        )
    except NotFound:
        return screen.not_found()
    return screen.redirect(f"/panel/keys?done={'enabled' if enabled else 'disabled'}")


@page(owner=True)
async def revoke(screen: Screen) -> Response:
    """A GET asks to confirm (no script needed); the POST revokes."""
    try:
        if screen.form is None:
            key = await screen.services.keys.key_of(screen.account_id, _key_id(screen))
            return screen.render("keys/revoke.html", key=key)
        await screen.services.keys.revoke_of(
            screen.account_id, _key_id(screen), actor=screen.user.email
        )
    except NotFound:
        return screen.not_found()
    return screen.redirect("/panel/keys?done=revoked")


# A key's webhook.


@page(owner=True)
async def webhook(screen: Screen) -> Response:
    key_id = _key_id(screen)
    if screen.form is None:
        return await _webhook_page(screen, key_id)
    events = frozenset(e for e in EVENTS if e.value in screen.fields("events"))
    change = WebhookChange(
        url=screen.field("url").strip(), events=events, enabled=bool(screen.field("enabled"))
    )
    form = {"url": change.url, "events": events, "enabled": change.enabled}
    try:
        secret = await screen.services.webhooks.configure_of(
            screen.account_id, key_id, change, actor=screen.user.email
        )
    except NotFound:
        return screen.not_found()
    except PrivateReceiver:
        error = screen.t.text(
            "This address is on a private network or this machine: a webhook must reach"
            " a public address."
        )
        return await _webhook_page(screen, key_id, status=400, error=error, form=form)
    except ValueError:
        error = screen.t.text(
            "This URL cannot receive webhooks: give an http or https address that resolves."
        )
        return await _webhook_page(screen, key_id, status=400, error=error, form=form)
    if secret is None:
        return screen.redirect(f"/panel/keys/{key_id}/webhook?done=saved")
    return await _webhook_page(screen, key_id, new_secret=secret)


async def _webhook_page(screen: Screen, key_id: int, status: int = 200, **context: Any) -> Response:
    try:
        hook: KeyWebhook = await screen.services.webhooks.of_key(screen.account_id, key_id)
    except NotFound:
        return screen.not_found()
    config = hook.config
    context.setdefault(
        "form",
        {
            "url": config.url if config else "",
            "events": config.events if config else frozenset(EVENTS),
            "enabled": config.enabled if config else True,
        },
    )
    return screen.render(
        "keys/webhook.html",
        status=status,
        hook=hook,
        events=EVENTS,
        at=_at,
        done=screen.query.get("done", ""),
        replayed=screen.query.get("replayed", ""),
        **context,
    )


@page(owner=True)
async def send_test(screen: Screen) -> Response:
    key_id = _key_id(screen)
    try:
        await screen.services.webhooks.test_of(screen.account_id, key_id)
    except NotFound:
        return screen.not_found()
    except GatewayError as refused:
        return await _webhook_page(screen, key_id, status=400, error=screen.refusal(refused))
    return screen.redirect(f"/panel/keys/{key_id}/webhook?done=test")


@page(owner=True)
async def rotate(screen: Screen) -> Response:
    key_id = _key_id(screen)
    grace = screen.services.settings.webhook_grace_hours * 3600
    try:
        secret = await screen.services.webhooks.rotate_of(
            screen.account_id, key_id, grace, actor=screen.user.email
        )
    except NotFound:
        return screen.not_found()
    except ValueError:
        return screen.redirect(f"/panel/keys/{key_id}/webhook")
    return await _webhook_page(
        screen, key_id, new_secret=secret, grace_hours=screen.services.settings.webhook_grace_hours
    )


@page(owner=True)
async def replay(screen: Screen) -> Response:
    key_id = _key_id(screen)
    try:
        count = await screen.services.webhooks.replay_of(
            screen.account_id, key_id, screen.field("event") or None, actor=screen.user.email
        )
    except NotFound:
        return screen.not_found()
    return screen.redirect(f"/panel/keys/{key_id}/webhook?replayed={count}")


routes = [
    Route("/keys", keys, methods=["GET", "POST"]),
    Route("/keys/{key_id:int}/api", switch_api, methods=["POST"]),
    Route("/keys/{key_id:int}/revoke", revoke, methods=["GET", "POST"]),
    Route("/keys/{key_id:int}/webhook", webhook, methods=["GET", "POST"]),
    Route("/keys/{key_id:int}/webhook/test", send_test, methods=["POST"]),
    Route("/keys/{key_id:int}/webhook/rotate", rotate, methods=["POST"]),
    Route("/keys/{key_id:int}/webhook/replay", replay, methods=["POST"]),
]
