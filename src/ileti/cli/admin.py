"""The operator's commands: accounts, keys, sender IDs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import lira_to_kurus, run_with_services, show
from ileti.domain.permissions import Permission
from ileti.domain.titles import TitleStatus

if TYPE_CHECKING:
    from ileti.accounts.accounts import AccountView, TitleView
    from ileti.accounts.keys import KeyRecord
    from ileti.accounts.resellers import ChildView
    from ileti.services import Services

account_app = typer.Typer(help="Customer accounts and their balances.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
title_app = typer.Typer(help="Sender IDs (titles).", no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(key_app, name="key")
app.add_typer(title_app, name="title")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _account_row(a: AccountView, parent: str | None = None) -> dict[str, object]:
    return {
        "id": a.id,
        "name": a.name,
        "parent": parent,
        "status": a.status,
        "credits": a.credits,
        "international": f"{a.international_kurus / 100:.2f}",
        "international_enabled": a.international_enabled,
        "otp_title": a.otp_title,
        "created_at": a.created_at.isoformat(timespec="seconds"),
    }


_ACCOUNT_COLUMNS = [
    "id",
    "name",
    "parent",
    "status",
    "credits",
    "international",
    "international_enabled",
]
_CHILD_COLUMNS = ["id", "name", "parent", "status", "shared_balance", "daily_cap"]


@account_app.command("create")
def account_create(
    name: str,
    credits: Annotated[int, typer.Option(min=0, help="Opening domestic credits.")] = 0,
    international: Annotated[
        str, typer.Option(help="Opening international balance in TRY, e.g. 25.50.")
    ] = "0",
    parent: Annotated[
        str | None, typer.Option(help="A reseller: the new account is its customer.")
    ] = None,
    shared_balance: Annotated[
        bool,
        typer.Option("--shared-balance", help="With --parent: it spends its parent's balance."),
    ] = False,
    daily_cap: Annotated[
        int | None,
        typer.Option(min=1, help="With --shared-balance: credits it may spend an Istanbul day."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Create an account (international sending is on when it gets an international balance),
    or with --parent a reseller's customer (sending abroad as its parent may)."""
    kurus = lira_to_kurus(international)
    if parent is None:
        if shared_balance or daily_cap is not None:
            raise typer.BadParameter("--shared-balance and --daily-cap go with --parent")

        async def work(services: Services) -> AccountView:
            return await services.accounts.open(name, credits=credits, international_kurus=kurus)

        row = _account_row(run_with_services(work))
        show([row], _ACCOUNT_COLUMNS, json_output, "Account created")
        return
    if credits or kurus:
        raise typer.BadParameter(
            "a customer account gets credits from its reseller by transfer (or by topup)"
        )

    async def make_child(services: Services) -> ChildView:
        return await services.resellers.open_child(
            parent, name, shared_balance=shared_balance, daily_cap=daily_cap
        )

    child = run_with_services(make_child)
    row = {
        "id": child.id,
        "name": child.name,
        "parent": parent,
        "status": child.status,
        "shared_balance": child.shared_balance,
        "daily_cap": child.daily_cap,
    }
    show([row], _CHILD_COLUMNS, json_output, "Customer account created")


@account_app.command("list")
def account_list(json_output: JsonFlag = False) -> None:
    """All accounts with their balances, and each reseller's customer with its parent."""

    async def work(services: Services) -> tuple[list[AccountView], dict[int, str]]:
        return await services.accounts.all(), await services.resellers.parent_names()

    accounts, parents = run_with_services(work)
    rows = [_account_row(a, parents.get(a.id)) for a in accounts]
    show(rows, _ACCOUNT_COLUMNS, json_output, "Accounts")


@account_app.command("topup")
def account_topup(
    name: str,
    credits: Annotated[int | None, typer.Option(min=1, help="Domestic credits to add.")] = None,
    international: Annotated[str | None, typer.Option(help="TRY to add, e.g. 10.25.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Add credits or international balance: a ledger entry, never an overwrite."""
    from ileti.domain.pricing import Balance

    if (credits is None) == (international is None):
        raise typer.BadParameter("give exactly one of --credits or --international")
    if credits is not None:
        balance, amount = Balance.MAIN, credits
    else:
        balance, amount = Balance.INTERNATIONAL, lira_to_kurus(str(international))
        if amount <= 0:
            raise typer.BadParameter("a top-up is a positive amount")

    async def work(services: Services) -> AccountView:
        return await services.accounts.top_up(name, balance, amount)

    show([_account_row(run_with_services(work))], _ACCOUNT_COLUMNS, json_output, "Balance")


@account_app.command("set")
def account_set(
    name: str,
    status: Annotated[str | None, typer.Option(help="active or inactive")] = None,
    international: Annotated[
        bool | None,
        typer.Option("--international/--no-international", help="International sending."),
    ] = None,
    otp_title: Annotated[
        str | None, typer.Option(help="The title /otp/send sends from (one of its titles).")
    ] = None,
    otp_code: Annotated[
        bool | None,
        typer.Option("--otp-code/--no-otp-code", help="Return the code in /otp/send's answer."),
    ] = None,
    iys_url: Annotated[
        str | None, typer.Option(help="İYS's address, e.g. https://api.iys.org.tr.")
    ] = None,
    iys_code: Annotated[str | None, typer.Option(help="The account's İYS code.")] = None,
    iys_brand: Annotated[str | None, typer.Option(help="The brand code its consents are for.")] = (
        None
    ),
    iys_username: Annotated[str | None, typer.Option(help="İYS API user.")] = None,
    iys_password_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the İYS password (never on the command line)."),
    ] = None,
    iys_password_stdin: Annotated[
        bool, typer.Option("--iys-password-stdin", help="Read the İYS password from stdin.")
    ] = False,
    iys_mode: Annotated[
        str | None,
        typer.Option(help="off: consents kept and synced; enforce: Advertising checked too."),
    ] = None,
    low_balance: Annotated[
        int | None,
        typer.Option(min=0, help="Raise account.low_balance below this many credits."),
    ] = None,
    no_low_balance: Annotated[
        bool, typer.Option("--no-low-balance", help="No low-balance event.")
    ] = False,
    daily_cap: Annotated[
        int | None,
        typer.Option(min=1, help="A shared-balance customer's credits an Istanbul day."),
    ] = None,
    no_daily_cap: Annotated[
        bool, typer.Option("--no-daily-cap", help="Lift a customer's daily cap.")
    ] = False,
) -> None:
    """Suspend or reactivate an account, switch its international sending, set its OTPs, its
    İYS access, its low-balance threshold and (a shared-balance customer's) daily cap."""
    from ileti.accounts.accounts import AccountChange
    from ileti.compliance.consents import IysChange

    if status not in (None, "active", "inactive"):
        raise typer.BadParameter("status is active or inactive")
    if iys_password_file is not None and iys_password_stdin:
        raise typer.BadParameter("give the İYS password by a file or on stdin, not both")
    password = None
    if iys_password_file is not None:
        password = iys_password_file.read_text().strip()
    elif iys_password_stdin:
        password = sys.stdin.readline().strip()
    if password == "":
        raise typer.BadParameter("the İYS password is empty")
    if low_balance is not None and no_low_balance:
        raise typer.BadParameter("give --low-balance or --no-low-balance, not both")
    if daily_cap is not None and no_daily_cap:
        raise typer.BadParameter("give --daily-cap or --no-daily-cap, not both")

    change = AccountChange(
        active=None if status is None else status == "active",
        international=international,
        otp_title=otp_title,
        otp_code_in_response=otp_code,
    )
    iys = IysChange(iys_url, iys_code, iys_brand, iys_username, password, iys_mode)
    iys_given = any(
        value is not None
        for value in (iys_url, iys_code, iys_brand, iys_username, password, iys_mode)
    )

    async def work(services: Services) -> None:
        if iys_given:
            # Checked first: a refused İYS setting changes nothing else either.
            await services.consents.configure(name, iys)
        if daily_cap is not None or no_daily_cap:
            await services.resellers.set_daily_cap(name, daily_cap)
        if low_balance is not None or no_low_balance:
            account_id = await services.resellers.account_id(name)
            await services.accounts.set_low_balance(account_id, low_balance)
        await services.accounts.change(name, change)

    run_with_services(work)
    typer.echo(f"account {name} updated")


def _key_row(k: KeyRecord) -> dict[str, object]:
    return {
        "prefix": k.prefix,
        "status": "revoked" if k.revoked else ("active" if k.api_enabled else "api disabled"),
        "permissions": sorted(p.value for p in k.permissions),
        "allowed_ips": list(k.allowed_ips),
        "per_minute": k.per_minute,
        "created_at": k.created_at.isoformat(timespec="seconds"),
        "revoked_at": k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else None,
    }


_KEY_COLUMNS = ["prefix", "status", "permissions", "allowed_ips", "per_minute", "created_at"]


@key_app.command("create")
def key_create(
    account: str,
    deny: Annotated[
        list[Permission] | None, typer.Option(help="A permission this key must not have.")
    ] = None,
    allow: Annotated[
        list[Permission] | None,
        typer.Option(help="A permission granted only when asked for: manage_subaccounts."),
    ] = None,
    allow_ip: Annotated[
        list[str] | None, typer.Option(help="A CIDR the key may be used from (repeatable).")
    ] = None,
    per_minute: Annotated[
        int | None, typer.Option(min=0, help="Requests a minute; 0 lifts the limit.")
    ] = None,
) -> None:
    """Create a key. The key is printed on the last line, once: it is stored only as a hash."""
    from ileti.domain.keys import normalise_networks

    try:
        cidrs = normalise_networks(allow_ip or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def work(services: Services) -> tuple[str, KeyRecord]:
        return await services.keys.create(
            account,
            deny=set(deny or []),
            allow=set(allow or []),
            allow_ips=cidrs,
            per_minute=per_minute,
        )

    key, record = run_with_services(work)
    show([_key_row(record)], _KEY_COLUMNS, False, f"Key for {account}")
    typer.echo("Keep this key now; it cannot be shown again:")
    typer.echo(key)


@key_app.command("list")
def key_list(account: str, json_output: JsonFlag = False) -> None:
    """An account's keys, by prefix (the full key is never shown again)."""

    async def work(services: Services) -> list[KeyRecord]:
        return await services.keys.of(account)

    rows = [_key_row(k) for k in run_with_services(work)]
    show(rows, _KEY_COLUMNS, json_output, f"Keys of {account}")


@key_app.command("revoke")
def key_revoke(key: Annotated[str, typer.Argument(help="The full key or its prefix.")]) -> None:
    """Revoke a key; it stops working within a second."""

    async def work(services: Services) -> KeyRecord:
        return await services.keys.revoke(key)

    record = run_with_services(work)
    typer.echo(f"key {record.prefix} revoked")


@key_app.command("enable")
def key_enable(
    key: Annotated[str, typer.Argument(help="The full key or its prefix.")],
    off: Annotated[bool, typer.Option("--off", help="Switch API access off instead.")] = False,
) -> None:
    """Switch a key's API access on (or off with --off)."""

    async def work(services: Services) -> None:
        await services.keys.switch_api(key, not off)

    run_with_services(work)
    typer.echo(f"API access {'off' if off else 'on'}")


@title_app.command("add")
def title_add(
    account: str,
    title: str,
    active: Annotated[bool, typer.Option("--active", help="Approve it at once.")] = False,
) -> None:
    """Add a sender ID (pending approval unless --active)."""

    async def work(services: Services) -> TitleView:
        return await services.accounts.add_title(account, title, active=active)

    added = run_with_services(work)
    typer.echo(f"title {added.title!r} added ({added.status})")


@title_app.command("set")
def title_set(account: str, title: str, status: TitleStatus) -> None:
    """Set a sender ID's status: active, inactive or pending."""

    async def work(services: Services) -> None:
        await services.accounts.set_title(account, title, status)

    run_with_services(work)
    typer.echo(f"title {title!r} is {status.value}")


@title_app.command("list")
def title_list(account: str, json_output: JsonFlag = False) -> None:
    """An account's sender IDs."""

    async def work(services: Services) -> list[TitleView]:
        return await services.accounts.titles_of(account)

    rows = [{"title": t.title, "status": t.status} for t in run_with_services(work)]
    show(rows, ["title", "status"], json_output, f"Titles of {account}")
