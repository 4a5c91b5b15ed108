"""Logging in (password, then a TOTP code for users who enrolled), enrolling a TOTP secret,
logging out, and choosing the language."""

from __future__ import annotations

import io
from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ileti.access.authenticator import client_address
from ileti.access.logins import LoginRefused, Stage
from ileti.web import session
from ileti.web.i18n import LANGUAGES
from ileti.web.pages import HOME, Screen, page, public


def _next(target: str | None) -> str:
    """Where to go after login: a panel page, never another site."""
    if target and target.startswith("/panel/") and not target.startswith("//"):
        return target
    return HOME


def _address(screen: Screen) -> str:
    request = screen.request
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, request.app.state.trusted_proxies) or "unknown"


def _refused(screen: Screen, error: LoginRefused, template: str, **context: Any) -> Response:
    if error.retry_after:
        message = screen.t.text(
            "Too many failed attempts. Try again in {seconds} seconds.",
            seconds=int(error.retry_after) + 1,
        )
        status = 429
    else:
        message = screen.t.text("The email, password or code is not right.")
        status = 401
    return screen.render(template, status=status, error=message, **context)


@public
async def login(screen: Screen) -> Response:
    target = _next(screen.query.get("next") or screen.field("next"))
    if screen.visit is not None and screen.visit.stage == Stage.IN:
        return screen.redirect(target)
    if screen.form is None:
        return screen.render("login.html", next=target, email="")
    email = screen.field("email")
    try:
        visit = await screen.services.logins.password(
            email, screen.field("password"), _address(screen)
        )
    except LoginRefused as error:
        return _refused(screen, error, "login.html", next=target, email=email)
    destination = {
        Stage.IN: target,
        Stage.TOTP: f"/panel/login/code?next={target}",
        Stage.ENROL: "/panel/account/totp",
    }[visit.stage]
    response = screen.redirect(destination)
    session.set_session(response, screen.request, visit.token)
    return response


@public
async def login_code(screen: Screen) -> Response:
    visit = screen.visit
    target = _next(screen.query.get("next") or screen.field("next"))
    if visit is None:
        return screen.redirect("/panel/login")
    if visit.stage != Stage.TOTP:
        return screen.redirect(target)
    if screen.form is None:
        return screen.render("login_code.html", next=target)
    try:
        visit = await screen.services.logins.code(visit, screen.field("code"), _address(screen))
    except LoginRefused as error:
        return _refused(screen, error, "login_code.html", next=target)
    response = screen.redirect(target)
    session.set_session(response, screen.request, visit.token)
    return response


@public
async def enrol(screen: Screen) -> Response:
    """A TOTP secret for the user's app: shown with its QR code, in force once a code from the
    app confirms it. Reached logged in, or at the enrolment stage when it is compulsory."""
    visit = screen.visit
    if visit is None:
        return screen.redirect("/panel/login")
    if visit.user.totp_enabled:
        return screen.render("enrol.html", enrolled=True)
    logins = screen.services.logins
    if screen.form is not None and screen.field("code"):
        try:
            visit = await logins.confirm_enrolment(visit, screen.field("code"))
        except LoginRefused as error:
            enrolment = await logins.start_enrolment(visit.user)
            return _refused(
                screen, error, "enrol.html", **_enrolment(enrolment.secret, enrolment.uri)
            )
        response = screen.redirect(HOME)
        session.set_session(response, screen.request, visit.token)
        return response
    enrolment = await logins.start_enrolment(visit.user)
    return screen.render("enrol.html", **_enrolment(enrolment.secret, enrolment.uri))


def _enrolment(secret: str, uri: str) -> dict[str, Any]:
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=5, xmldecl=False, svgns=True, dark="#111"
    )
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"qr_svg": out.getvalue().decode(), "secret": grouped, "enrolled": False}


@page
async def logout(screen: Screen) -> Response:
    await screen.services.logins.logout(screen.visit.token if screen.visit else "")
    response = screen.redirect("/panel/login")
    session.clear_session(response, screen.request)
    return response


async def language(request: Request) -> Response:
    """Switches the language (a link, so that it works without a form) and goes back."""
    chosen = request.path_params["lang"]
    response = RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    if chosen in LANGUAGES:
        response.set_cookie(
            session.LANG_COOKIE,
            chosen,
            path=session.PATH,
            max_age=365 * 86400,
            samesite="lax",
            secure=session.secure(request),
        )
    return response


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/login/code", login_code, methods=["GET", "POST"]),
    Route("/account/totp", enrol, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{lang}", language, methods=["GET"]),
]
