"""The account's users (owners only): added with a generated password shown once, a member's
password reset (shown once), removed after a confirmation; the last owner stays."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ileti.accounts.users import LastOwner, OwnersOwnPassword
from ileti.domain.errors import AlreadyExists, NotFound
from ileti.domain.permissions import Role
from ileti.web.pages import Screen, page


@page(owner=True)
async def users(screen: Screen) -> Response:
    if screen.form is None:
        return await _users_page(screen, done=screen.query.get("done", ""))
    email = screen.field("email").strip()
    role = Role.OWNER if screen.field("role") == Role.OWNER.value else Role.MEMBER
    form = {"email": email, "role": role}
    try:
        user, password = await screen.services.users.add_to(
            screen.account_id, email, role, actor=screen.user.email
        )
    except AlreadyExists:
        error = screen.t.text("A user with this email exists already.")
        return await _users_page(screen, status=400, error=error, form=form)
    except ValueError:
        error = screen.t.text("“{email}” is not an email address.", email=email)
        return await _users_page(screen, status=400, error=error, form=form)
    return await _users_page(screen, new_password=password, for_email=user.email)


async def _users_page(screen: Screen, status: int = 200, **context: Any) -> Response:
    context.setdefault("form", {"email": "", "role": Role.MEMBER})
    return screen.render(
        "users/list.html",
        status=status,
        users=await screen.services.users.of_account(screen.account_id),
        **context,
    )


@page(owner=True)
async def reset(screen: Screen) -> Response:
    email = screen.field("email")
    try:
        password = await screen.services.users.reset_password(
            email, account_id=screen.account_id, actor=screen.user.email, members_only=True
        )
    except NotFound:
        return screen.not_found()
    except OwnersOwnPassword:
        error = screen.t.text("An owner's password is reset only by the gateway's operator.")
        return await _users_page(screen, status=400, error=error)
    return await _users_page(screen, new_password=password, for_email=email.strip().lower())


@page(owner=True)
async def remove(screen: Screen) -> Response:
    """A GET asks to confirm (no script needed); the POST removes."""
    email = screen.query.get("email", "") if screen.form is None else screen.field("email")
    users = await screen.services.users.of_account(screen.account_id)
    user = next((u for u in users if u.email == email.strip().lower()), None)
    if user is None:
        return screen.not_found()
    if screen.form is None:
        return screen.render("users/remove.html", removed=user)
    try:
        await screen.services.users.remove(
            user.email, account_id=screen.account_id, actor=screen.user.email
        )
    except NotFound:
        return screen.not_found()
    except LastOwner:
        error = screen.t.text(
            "{email} is the account's last owner: add another owner first.", email=user.email
        )
        return await _users_page(screen, status=400, error=error)
    if user.id == screen.user.id:
        return screen.redirect("/panel/login")
    return screen.redirect("/panel/users?done=removed")


routes = [
    Route("/users", users, methods=["GET", "POST"]),
    Route("/users/reset", reset, methods=["POST"]),
    Route("/users/remove", remove, methods=["GET", "POST"]),
]
