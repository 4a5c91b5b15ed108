"""Sender IDs: the account's titles and their state, and asking the operator for a new one."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ileti.codes import GatewayError
from ileti.web.pages import Screen, page


@page
async def titles(screen: Screen) -> Response:
    if screen.form is None:
        return await _titles_page(screen, done=screen.query.get("done", ""))
    wanted, reason = screen.field("title"), screen.field("reason")
    try:
        await screen.services.accounts.request_title(screen.account_id, wanted, reason)
    except GatewayError as error:
        return await _titles_page(
            screen, 400, error=screen.refusal(error), wanted=wanted, reason=reason
        )
    return screen.redirect("/panel/titles?done=requested")


async def _titles_page(screen: Screen, status: int = 200, **context: Any) -> Response:
    found = await screen.services.accounts.title_records(screen.account_id)
    return screen.render("titles/titles.html", status, titles=found, **context)


routes = [Route("/titles", titles, methods=["GET", "POST"])]
