"""What every panel page shares: who is visiting, the form and its CSRF check, the language,
rendering a template, and the answers (redirect, 404) pages give.

A page is a function of a ``Screen``, registered with ``page`` (logged-in users; ``owner=True``
for owners only, a 404 for members) or ``public`` (login and its steps).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ileti.access.logins import PanelUser, Stage, Visit
from ileti.codes import GatewayError
from ileti.services import Services
from ileti.web import session
from ileti.web.i18n import Translator, choose

ENV = Environment(
    loader=PackageLoader("ileti.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Where a user who is not logged in is sent, and where a login lands.
LOGIN = "/panel/login"
HOME = "/panel/"

Handler = Callable[["Screen"], Awaitable[Response]]


class PanelCaller:
    """The panel as the sending service sees a caller: the user's account, and the account's
    panel key that its sends are recorded under."""

    __slots__ = ("_account_id", "_key_id")

    def __init__(self, account_id: int, key_id: int) -> None:
        self._account_id = account_id
        self._key_id = key_id

    @property
    def account_id(self) -> int:
        return self._account_id

    @property
    def key_id(self) -> int:
        return self._key_id


@dataclass
class Screen:
    """One request to the panel."""

    request: Request
    services: Services
    t: Translator
    visit: Visit | None
    # The posted form (its CSRF token checked), None for a GET.
    form: FormData | None
    csrf: str
    # Cookies to set on whatever answer the page gives (the pre-login value).
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> PanelUser:
        assert self.visit is not None, "a public page has no user"
        return self.visit.user

    @property
    def account_id(self) -> int:
        return self.user.account_id

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @property
    def htmx(self) -> bool:
        """An htmx request: answer with the fragment, not the whole page."""
        return self.request.headers.get("HX-Request") == "true"

    def field(self, name: str, default: str = "") -> str:
        """A posted field as text (a file field gives the default)."""
        if self.form is None:
            return default
        value = self.form.get(name, default)
        return value if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [v for v in self.form.getlist(name) if isinstance(v, str)]

    async def caller(self) -> PanelCaller:
        return PanelCaller(self.account_id, await self.services.keys.panel_key(self.account_id))

    def refusal(self, error: GatewayError) -> str:
        """A service's refusal in the panel's words: the code, and its text in the language
        (the catalogue's text where the refusal gave no more specific one)."""
        text = self.t.text(error.message)
        return f"{text} ({error.result.code})"

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = ENV.get_template(template).render(
            _=self.t.text,
            t=self.t,
            lang=self.t.lang,
            csrf=self.csrf,
            user=self.visit.user if self.visit else None,
            path=self.request.url.path,
            here=_here(self.request),
            **context,
        )
        response = HTMLResponse(body, status_code=status)
        self._finish(response)
        return response

    def redirect(self, to: str) -> Response:
        if self.htmx:
            # htmx follows a 303 itself and would swap the whole page into the fragment.
            return self._finish(Response(status_code=204, headers={"HX-Redirect": to}))
        return self._finish(RedirectResponse(to, status_code=303))

    def not_found(self) -> HTMLResponse:
        return self.render("not_found.html", status=404)

    def _finish(self, response: Response) -> Response:
        for value in self.cookies.values():
            session.set_pre_login(response, self.request, value)
        return response


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _translator(request: Request) -> Translator:
    return Translator(
        choose(request.cookies.get(session.LANG_COOKIE), request.headers.get("accept-language"))
    )


# What a form may carry besides a file: the fields' share of a multipart body.
FORM_OVERHEAD = 64 * 1024


class FormTooLarge(Exception):
    """A posted form larger than the largest file the panel takes (or of unknown length)."""


async def _form(request: Request, services: Services) -> FormData | None:
    if request.method != "POST":
        return None
    # Starlette spools a file part to disk however large it is: refuse it before reading.
    limit = services.settings.campaign_max_bytes + FORM_OVERHEAD
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > limit:
        raise FormTooLarge()
    return await request.form(max_part_size=8 * 1024 * 1024)


def _too_large(screen: Screen) -> Response:
    megabytes = screen.services.settings.campaign_max_bytes // (1024 * 1024)
    return screen.render("too_large.html", status=413, megabytes=megabytes)


def _forbidden(screen: Screen) -> Response:
    return screen.render("forbidden.html", status=403)


def page(handler: Handler | None = None, *, owner: bool = False) -> Any:
    """A page for logged-in users (``owner``: owners only; a member gets a 404, as for
    anything not theirs). A POST without the session's CSRF token is refused (403)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            services: Services = request.app.state.services
            t = _translator(request)
            visit = await services.logins.visit(request.cookies.get(session.SESSION_COOKIE, ""))
            if visit is None or visit.stage != Stage.IN:
                target = LOGIN if visit is None else _stage_page(visit.stage)
                if request.method == "GET" and visit is None:
                    target += f"?next={quote(_here(request))}"
                if request.headers.get("HX-Request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            screen = Screen(
                request, services, t, visit, None, services.logins.form_token(visit.token)
            )
            if request.method == "POST":
                try:
                    screen.form = await _form(request, services)
                except FormTooLarge:
                    return _too_large(screen)
                if not services.logins.form_token_matches(
                    visit.token, screen.field(session.CSRF_FIELD)
                ):
                    return _forbidden(screen)
            if owner and not visit.user.is_owner:
                return screen.not_found()
            return await handler(screen)

        return endpoint

    return wrap(handler) if handler is not None else wrap


def public(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for anyone (login and its steps); forms carry a token tied to a pre-login
    cookie, or to the session once there is one."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        t = _translator(request)
        visit = await services.logins.visit(request.cookies.get(session.SESSION_COOKIE, ""))
        if visit is not None:
            basis, cookies = visit.token, {}
        else:
            value, new = session.pre_login_value(request)
            basis, cookies = f"pre:{value}", ({session.PRE_COOKIE: value} if new else {})
        screen = Screen(
            request, services, t, visit, None, services.logins.form_token(basis), cookies
        )
        if request.method == "POST":
            try:
                screen.form = await _form(request, services)
            except FormTooLarge:
                return _too_large(screen)
            if not services.logins.form_token_matches(basis, screen.field(session.CSRF_FIELD)):
                return _forbidden(screen)
        return await handler(screen)

    return endpoint


def _stage_page(stage: Stage) -> str:
    return {Stage.TOTP: "/panel/login/code", Stage.ENROL: "/panel/account/totp"}.get(stage, LOGIN)
