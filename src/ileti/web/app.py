"""The customer panel: server-rendered pages over the same services as the API, mounted at
``/panel`` by the API's application (``ileti serve`` and ``ileti api``)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ileti.access.authenticator import trusted_networks
from ileti.services import Services
from ileti.web.i18n import Translator, choose
from ileti.web.pages import ENV
from ileti.web.routes import (
    audit,
    auth,
    billing,
    campaigns,
    consents,
    contacts,
    customers,
    dashboard,
    keys,
    send,
    sends,
    titles,
    users,
)
from ileti.web.session import LANG_COOKIE

AREAS = (
    auth,
    dashboard,
    send,
    campaigns,
    sends,
    contacts,
    consents,
    titles,
    keys,
    billing,
    customers,
    users,
    audit,
)


class _Static(StaticFiles):
    """The vendored files change only with a release: kept by browsers for a day."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "public, max-age=86400")
        return response


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    t = Translator(choose(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")))
    body = ENV.get_template("not_found.html").render(_=t.text, t=t, lang=t.lang, user=None)
    return HTMLResponse(body, status_code=status)


def create_panel(services: Services) -> Starlette:
    routes = [route for area in AREAS for route in area.routes]
    routes.append(Mount("/static", _Static(packages=[("ileti.web", "static")]), name="static"))
    panel = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    panel.state.services = services
    panel.state.trusted_proxies = trusted_networks(services.settings.trusted_proxies)
    return panel
