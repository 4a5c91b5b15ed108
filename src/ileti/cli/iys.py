"""``ileti iys``: an account's İYS consents as the operator handles them: a file of records
imported, the sync with İYS run at once, the state of both shown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import fail, run_with_services, show

if TYPE_CHECKING:
    from ileti.iys.sync import SyncReport
    from ileti.services import Services

iys_app = typer.Typer(
    help="İYS consent records: import them, sync them with İYS, see where they stand.",
    no_args_is_help=True,
)
app.add_typer(iys_app, name="iys")

Account = Annotated[str, typer.Argument(help="The account's name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@iys_app.command("import")
def iys_import(
    account: Account,
    file: Annotated[Path, typer.Argument(help=".csv, .xlsx, .xls or .ods", exists=True)],
    sheet: Annotated[str | None, typer.Option(help="The sheet to read; the first if absent.")] = (
        None
    ),
    phone_column: Annotated[
        str | None, typer.Option(help="The phone column's header; found if absent.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Keep the consent records of a file (a row each: phone, status, recipient type, source,
    consent date); every row İYS's rules refuse is reported with its row number."""
    from ileti.campaigns.consent_files import consent_rows
    from ileti.campaigns.limits import FileLimits, FileRefused
    from ileti.campaigns.sheets import read_table
    from ileti.compliance.consents import MAX_AT_ONCE

    async def work(services: Services) -> tuple[int, list[dict[str, object]]]:
        account_id = await services.consents.account_id(account)
        try:
            table = read_table(
                file.read_bytes(),
                file.name,
                sheet=sheet,
                limits=FileLimits.from_settings(services.settings),
            )
            rows = consent_rows(table, phone_column)
        except FileRefused as refused:
            fail(str(refused))
        accepted, rejected = 0, []
        for start in range(0, len(rows), MAX_AT_ONCE):
            chunk = rows[start : start + MAX_AT_ONCE]
            outcome = await services.consents.add(account_id, [row.fields for row in chunk], "file")
            accepted += outcome.accepted
            rejected += [
                {"row": chunk[r.index].line, "code": r.code, "message": r.message}
                for r in outcome.rejected
            ]
        return accepted, rejected

    accepted, rejected = run_with_services(work)
    if json_output:
        import json

        typer.echo(json.dumps({"accepted": accepted, "rejected": rejected}, ensure_ascii=False))
    else:
        if rejected:
            show(rejected, ["row", "code", "message"], False, "Rows refused")
        typer.echo(f"{accepted:,} records kept, {len(rejected):,} rows refused")
    if rejected and not accepted:
        raise typer.Exit(1)


@iys_app.command("sync")
def iys_sync(
    account: Annotated[
        str | None, typer.Option(help="Only this account; every account with İYS if absent.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Push the records waiting for İYS and pull citizens' changes, at once."""
    from ileti.iys.sync import IysSync

    async def work(services: Services) -> list[SyncReport]:
        account_id = await services.consents.account_id(account) if account else None
        sync = IysSync(services.db, services.keyring, clock=services.clock)
        return await sync.round(account_id)

    reports = run_with_services(work)
    rows = [
        {
            "account_id": r.account_id,
            "pushed": r.pushed,
            "synced": r.synced,
            "failed": r.failed,
            "waiting": r.waiting,
            "pulled": r.pulled,
            "error": r.error,
        }
        for r in reports
    ]
    show(rows, list(rows[0]) if rows else ["account_id"], json_output, "İYS sync")
    if any(r.error for r in reports):
        raise typer.Exit(1)


@iys_app.command("show")
def iys_show(account: Account, json_output: JsonFlag = False) -> None:
    """An account's İYS settings (never the password) and its records per sync state."""

    async def work(services: Services) -> dict[str, object] | None:
        view = await services.consents.settings_for(account)
        if view is None:
            return None
        return {
            "url": view.url,
            "iys_code": view.iys_code,
            "brand_code": view.brand_code,
            "username": view.username,
            "mode": view.mode,
            "pulled_at": view.pulled_at,
            "pushed_at": view.pushed_at,
            "last_error": view.last_error,
            **{f"records_{state}": count for state, count in sorted(view.states.items())},
        }

    row = run_with_services(work)
    if row is None:
        fail(f"İYS is not set up for {account}: ileti account set {account} --iys-url …")
    show([row], list(row), json_output, f"İYS of {account}")
