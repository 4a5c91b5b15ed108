"""The dashboard: balances, today's messages by state, the last 14 days, the last sends and
what is waiting."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from ileti.web.pages import Screen, page


@page
async def dashboard(screen: Screen) -> Response:
    balances = await screen.services.accounts.balances(screen.account_id)
    return screen.render("dashboard.html", balances=balances)


routes = [Route("/", dashboard, methods=["GET"])]
