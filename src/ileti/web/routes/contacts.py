"""Contact groups (their numbers, added by hand or from a CSV file) and the blacklist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ileti import codes
from ileti.codes import GatewayError
from ileti.compliance import contact_files
from ileti.compliance.blacklist import SOURCE_API, Removal
from ileti.compliance.contacts import ContactLine, GroupRecord
from ileti.domain.errors import NotFound
from ileti.validation import quoted
from ileti.web.pages import Screen, page

PAGE_SIZE = 100
# Group ids are 32-bit: a longer one in a URL is no group.
_MAX_GROUP_ID = 2**31 - 1


def _whole(value: str) -> int | None:
    """A position or an id the page gave back: digits, else None."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def _position(screen: Screen, name: str) -> int | None:
    """Where a listing's page starts (None: the first page)."""
    return _whole(screen.query.get(name, ""))


def said(screen: Screen, error: GatewayError) -> str:
    """A refusal in the panel's words; a number's refusal says which and why in the language
    (the reasons are the catalogue's, the number as it was given)."""
    if error.result is codes.INVALID_NUMBER and error.errors:
        why = error.errors[0]["message"]
        number = error.message.removeprefix("Invalid phone number: ").removesuffix(f" {why}.")
        text = screen.t.text(
            "Not added: {number} {reason}.", number=number, reason=screen.t.text(why)
        )
        return f"{text} ({error.result.code})"
    return screen.refusal(error)


# The groups.


@page
async def groups(screen: Screen) -> Response:
    if screen.form is None:
        return await _groups_page(screen)
    try:
        made = await screen.services.contacts.create(screen.account_id, screen.field("name"))
    except GatewayError as error:
        return await _groups_page(screen, 400, error=said(screen, error), name=screen.field("name"))
    return screen.redirect(f"/panel/contacts/{made.id}")


async def _groups_page(screen: Screen, status: int = 200, **context: Any) -> Response:
    found = await screen.services.contacts.groups(screen.account_id)
    return screen.render(
        "contacts/groups.html",
        status,
        groups=found,
        done=screen.query.get("done", ""),
        **context,
    )


async def _group_page(
    screen: Screen, found: GroupRecord, status: int = 200, **context: Any
) -> Response:
    after = _position(screen, "after")
    members, next_after = await screen.services.contacts.members(
        screen.account_id, found.id, limit=PAGE_SIZE, after=after
    )
    return screen.render(
        "contacts/group.html",
        status,
        group=found,
        members=members,
        after=after,
        next_after=next_after,
        done=screen.query.get("done", ""),
        count=_position(screen, "count"),
        **context,
    )


GroupAction = Callable[[Screen, GroupRecord], Awaitable[Response]]


def _on_group(action: GroupAction) -> Callable[[Request], Awaitable[Response]]:
    """A page of one of the account's groups (the one its URL names); the 404 page for a
    group that is not the account's, as for none."""

    @page
    @wraps(action)
    async def endpoint(screen: Screen) -> Response:
        group_id: int = screen.request.path_params["group_id"]
        try:
            if group_id > _MAX_GROUP_ID:
                raise NotFound("no such contact group")
            found = await screen.services.contacts.group(screen.account_id, group_id)
            return await action(screen, found)
        except NotFound:
            return screen.not_found()

    return endpoint


@_on_group
async def group(screen: Screen, found: GroupRecord) -> Response:
    return await _group_page(screen, found)


@_on_group
async def rename(screen: Screen, found: GroupRecord) -> Response:
    name = screen.field("name")
    try:
        await screen.services.contacts.rename(screen.account_id, found.id, name)
    except GatewayError as error:
        return await _group_page(screen, found, 400, error=said(screen, error), new_name=name)
    return screen.redirect(f"/panel/contacts/{found.id}?done=renamed")


@_on_group
async def delete(screen: Screen, found: GroupRecord) -> Response:
    await screen.services.contacts.delete(screen.account_id, found.id)
    return screen.redirect("/panel/contacts?done=deleted")


@_on_group
async def add_numbers(screen: Screen, found: GroupRecord) -> Response:
    first, last = screen.field("first_name"), screen.field("last_name")
    lines = [
        ContactLine(line.line, line.number, first, last)
        for line in contact_files.typed(screen.field("numbers"))
    ]
    return await _added(screen, found, lines, typed=screen.field("numbers"))


@_on_group
async def import_file(screen: Screen, found: GroupRecord) -> Response:
    upload = screen.form.get("file") if screen.form is not None else None
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    try:
        lines = contact_files.from_csv(data)
    except GatewayError as error:
        return await _group_page(screen, found, 400, error=said(screen, error))
    return await _added(screen, found, lines, imported=True)


async def _added(
    screen: Screen, found: GroupRecord, lines: list[ContactLine], **context: Any
) -> Response:
    try:
        result = await screen.services.contacts.add(screen.account_id, found.id, lines)
    except GatewayError as error:
        return await _group_page(screen, found, 400, error=said(screen, error), **context)
    grown = await screen.services.contacts.group(screen.account_id, found.id)
    return await _group_page(screen, grown, result=result, **context)


@_on_group
async def remove_numbers(screen: Screen, found: GroupRecord) -> Response:
    ids = [n for n in map(_whole, screen.fields("contact")) if n is not None]
    if not ids:
        return screen.redirect(f"/panel/contacts/{found.id}")
    removed = await screen.services.contacts.remove(screen.account_id, found.id, ids)
    return screen.redirect(f"/panel/contacts/{found.id}?done=removed&count={removed}")


# The blacklist.


@page
async def blacklist(screen: Screen) -> Response:
    return await _blacklist_page(screen)


async def _blacklist_page(screen: Screen, status: int = 200, **context: Any) -> Response:
    before = _position(screen, "before")
    entries, next_before = await screen.services.blacklist.page(
        screen.account_id, PAGE_SIZE, before
    )
    return screen.render(
        "contacts/blacklist.html",
        status,
        entries=entries,
        before=before,
        next_before=next_before,
        account_source=SOURCE_API,
        done=screen.query.get("done", ""),
        number=quoted(screen.query.get("number", ""), 20),
        **context,
    )


@page
async def blacklist_add(screen: Screen) -> Response:
    try:
        digits = await screen.services.blacklist.add(screen.account_id, screen.field("number"))
    except GatewayError as error:
        return await _blacklist_page(
            screen, 400, error=said(screen, error), typed=screen.field("number")
        )
    return screen.redirect(f"/panel/blacklist?done=added&number={digits}")


@page
async def blacklist_remove(screen: Screen) -> Response:
    try:
        digits, removal = await screen.services.blacklist.take_off(
            screen.account_id, screen.field("number")
        )
    except GatewayError as error:
        if error.result is codes.NOT_FOUND:
            shown = screen.t.text(
                "{number} is not on your blacklist, or is there only by the recipient's own RET"
                " opt-out, which stays.",
                number=quoted(screen.field("number"), 20),
            )
            error = GatewayError(error.result, shown)
        return await _blacklist_page(screen, 400, error=said(screen, error))
    done = "narrowed" if removal is Removal.NARROWED else "removed"
    return screen.redirect(f"/panel/blacklist?done={done}&number={digits}")


routes = [
    Route("/contacts", groups, methods=["GET", "POST"]),
    Route("/contacts/{group_id:int}", group, methods=["GET"]),
    Route("/contacts/{group_id:int}/rename", rename, methods=["POST"]),
    Route("/contacts/{group_id:int}/delete", delete, methods=["POST"]),
    Route("/contacts/{group_id:int}/numbers", add_numbers, methods=["POST"]),
    Route("/contacts/{group_id:int}/import", import_file, methods=["POST"]),
    Route("/contacts/{group_id:int}/remove", remove_numbers, methods=["POST"]),
    Route("/blacklist", blacklist, methods=["GET"]),
    Route("/blacklist/add", blacklist_add, methods=["POST"]),
    Route("/blacklist/remove", blacklist_remove, methods=["POST"]),
]
