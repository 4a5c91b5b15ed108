"""The operator's webhook commands: settings per key, secrets, failed events and replays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import run_with_services, show, show_one

if TYPE_CHECKING:
    from ileti.accounts.webhooks import EventView, WebhookState
    from ileti.domain.webhooks import EventType
    from ileti.services import Services

webhook_app = typer.Typer(help="Webhooks: where each key's events go.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _time_ms(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _list(value: str, what: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise typer.BadParameter(f"give at least one {what}")
    return items


def _backoff(value: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(item) for item in _list(value, "delay"))
    except ValueError:
        raise typer.BadParameter("--backoff is seconds separated by commas") from None
    if any(d < 0 for d in delays):
        raise typer.BadParameter("a delay is not negative")
    return delays


def _events(value: str) -> frozenset[EventType]:
    from ileti.domain.webhooks import EventType

    try:
        return frozenset(EventType(item) for item in _list(value, "event"))
    except ValueError:
        names = ", ".join(e.value for e in EventType)
        raise typer.BadParameter(f"events are among: {names}") from None


@webhook_app.command("set")
def webhook_set(
    key: str,
    url: Annotated[
        str | None, typer.Option(help="Where events are POSTed (http or https).")
    ] = None,
    secret: Annotated[
        str | None, typer.Option(help="whsec_<base64>; by default one is generated.")
    ] = None,
    retries: Annotated[
        int | None, typer.Option(min=1, max=50, help="Delivery attempts in all (default 8).")
    ] = None,
    backoff: Annotated[
        str | None,
        typer.Option(help="Seconds before each retry, e.g. 5,300,1800 (the last repeats)."),
    ] = None,
    events: Annotated[
        str | None, typer.Option(help="Events wanted, e.g. sms.delivered,sms.failed.")
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--on/--off", help="Deliver or hold.")] = None,
) -> None:
    """Set a key's webhook. The secret is printed on the last line only when this call sets
    one: the one made for a new webhook, or the one given with --secret; changing the other
    settings of a webhook keeps its secret and prints none (rotate-secret makes a new one)."""
    from ileti.accounts.webhooks import PrivateReceiver, WebhookChange

    change = WebhookChange(
        url=url,
        secret=secret,
        attempts=retries,
        backoff=_backoff(backoff) if backoff is not None else None,
        events=_events(events) if events is not None else None,
        enabled=enabled,
    )

    async def work(services: Services) -> tuple[str, str | None]:
        try:
            return await services.webhooks.configure(key, change)
        except PrivateReceiver as refused:
            # This command checks the URL with its own settings, not the server's.
            raise ValueError(
                f"{refused}. To allow receivers on private addresses, set"
                " ILETI_WEBHOOK_ALLOW_PRIVATE=1 for this command too (as for the server),"
                " e.g. ILETI_WEBHOOK_ALLOW_PRIVATE=1 ileti webhook set ..."
            ) from None

    prefix, new_secret = run_with_services(work)
    typer.echo(f"webhook of {prefix} set")
    if new_secret is not None:
        typer.echo("Its secret (shown only now):")
        typer.echo(new_secret)


@webhook_app.command("show")
def webhook_show(key: str, json_output: JsonFlag = False) -> None:
    """A key's webhook settings and its events by state (the secret is masked)."""

    async def work(services: Services) -> WebhookState:
        return await services.webhooks.state(key)

    state = run_with_services(work)
    config = state.config
    until = state.previous_secret_until_ms
    row = {
        "key": state.prefix,
        "url": config.url,
        "enabled": config.enabled,
        "events": sorted(e.value for e in config.events),
        "attempts": config.attempts,
        "backoff": ",".join(f"{d:g}" for d in config.backoff),
        "secret": state.secret_shown,
        "previous_secret_until": _iso(until) if until is not None else None,
        **state.counts,
    }
    show_one(row, json_output, "Webhook")


@webhook_app.command("rotate-secret")
def webhook_rotate_secret(
    key: str,
    grace_hours: Annotated[
        float | None,
        typer.Option(min=0, help="How long the old secret keeps signing (default 24)."),
    ] = None,
) -> None:
    """A new secret, printed on the last line; the old one signs too during the grace period."""
    from ileti.config import get_settings

    grace = grace_hours if grace_hours is not None else get_settings().webhook_grace_hours

    async def work(services: Services) -> str:
        return await services.webhooks.rotate_secret(key, grace * 3600)

    new_secret = run_with_services(work)
    typer.echo(f"secret rotated; the previous one signs too for {grace:g} h. The new secret:")
    typer.echo(new_secret)


@webhook_app.command("failures")
def webhook_failures(
    key: Annotated[str | None, typer.Option(help="Only this key's events.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Events that used every attempt (dead), newest first."""

    async def work(services: Services) -> list[EventView]:
        return await services.webhooks.failures(key, limit)

    rows = [
        {
            "event_id": e.id,
            "event_type": e.event_type,
            "created_at": _iso(e.created_ms),
            "attempts": e.attempts,
            "last_status_code": e.last_status_code,
            "last_error": e.last_error,
        }
        for e in run_with_services(work)
    ]
    show(
        rows,
        ["event_id", "event_type", "created_at", "attempts", "last_status_code", "last_error"],
        json_output,
        "Dead webhook events",
    )


@webhook_app.command("replay")
def webhook_replay(
    key: Annotated[str | None, typer.Option(help="Dead events of this key.")] = None,
    event: Annotated[
        list[str] | None, typer.Option(help="This event (repeatable), dead or delivered.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Created at or after (ISO-8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Created before (ISO-8601).")] = None,
) -> None:
    """Send events again, with a fresh set of attempts."""
    since_ms, until_ms = _time_ms(since), _time_ms(until)

    async def work(services: Services) -> int:
        return await services.webhooks.replay(
            key=key, event_ids=event or (), since_ms=since_ms, until_ms=until_ms
        )

    typer.echo(f"{run_with_services(work)} event(s) queued again")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
