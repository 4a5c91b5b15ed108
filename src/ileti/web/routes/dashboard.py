"""The dashboard: balances, today's messages by state, the last 14 days, the last sends and
what is waiting."""

from __future__ import annotations

from datetime import date, datetime, time

from starlette.responses import Response
from starlette.routing import Route

from ileti.domain.lifecycle import MessageStatus
from ileti.reporting.reports import Overview
from ileti.web.i18n import ISTANBUL, Translator
from ileti.web.pages import Screen, page
from ileti.web.routes.sends import STATES

# The states the chart draws per day, in its order.
CHARTED = (MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED)


@page
async def dashboard(screen: Screen) -> Response:
    balances = await screen.services.accounts.balances(screen.account_id)
    overview = await screen.services.reports.overview(screen.account_id)
    days, table = _per_day(overview)
    return screen.render(
        "dashboard.html",
        balances=balances,
        overview=overview,
        today={total.status.value: total for total in overview.today_totals},
        table=table,
        chart=_chart(screen.t, days, table),
        states=STATES,
        charted=[status.value for status in CHARTED],
    )


def _per_day(overview: Overview) -> tuple[list[date], dict[date, dict[str, int]]]:
    """Every day of the range (none left out for having no messages), and its counts."""
    first, last = overview.days.date_from, overview.days.date_to
    days = [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
    table: dict[date, dict[str, int]] = {day: dict.fromkeys(STATES, 0) for day in days}
    for total in overview.days.days:
        table[total.day][total.status.value] = total.count
    return days, table


def _chart(t: Translator, days: list[date], table: dict[date, dict[str, int]]) -> dict:
    """What ``dashboard.js`` draws: each day at noon in Istanbul (so every browser's zone puts
    it on its day), and a series per state."""
    return {
        "days": [int(datetime.combine(day, time(12), ISTANBUL).timestamp()) for day in days],
        "series": [
            {
                "state": status.value,
                "label": t.text(STATES[status.value]),
                "values": [table[day][status.value] for day in days],
            }
            for status in CHARTED
        ],
    }


routes = [Route("/", dashboard, methods=["GET"])]
