"""``ileti user``: the people who log into the panel for an account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import run_with_services, show
from ileti.domain.permissions import Role

if TYPE_CHECKING:
    from ileti.accounts.users import UserView
    from ileti.services import Services

user_app = typer.Typer(help="Panel users of an account.", no_args_is_help=True)
app.add_typer(user_app, name="user")

_COLUMNS = ["id", "email", "role", "totp", "created_at"]


def _row(user: UserView) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role.value,
        "totp": user.totp_enabled,
        "created_at": user.created_at.isoformat(timespec="seconds"),
    }


@user_app.command("add")
def user_add(
    account: str,
    email: str,
    role: Annotated[Role, typer.Option(help="owner: also keys, webhooks and users.")] = Role.MEMBER,
) -> None:
    """Add a user to an account; the generated password is printed on the last line, once."""

    async def work(services: Services) -> tuple[UserView, str]:
        return await services.users.add(account, email, role)

    user, password = run_with_services(work)
    typer.echo(f"User {user.email} ({user.role.value}) added to {user.account_name}.")
    typer.echo("Password (shown once):")
    typer.echo(password)


@user_app.command("list")
def user_list(
    account: str,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """An account's users."""

    async def work(services: Services) -> list[UserView]:
        return await services.users.of(account)

    show([_row(u) for u in run_with_services(work)], _COLUMNS, json_output, "Users")


@user_app.command("reset-password")
def user_reset_password(email: str) -> None:
    """A new password for the user (their sessions end); printed on the last line, once."""

    async def work(services: Services) -> str:
        return await services.users.reset_password(email)

    password = run_with_services(work)
    typer.echo(f"New password for {email.strip().lower()} (shown once):")
    typer.echo(password)


@user_app.command("remove")
def user_remove(email: str) -> None:
    """Remove a user (their sessions end); an account's last owner cannot be removed."""

    async def work(services: Services) -> None:
        await services.users.remove(email)

    run_with_services(work)
    typer.echo(f"User {email.strip().lower()} removed.")
