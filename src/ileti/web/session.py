"""The panel's cookies and its CSRF tokens.

The session cookie holds a random token (the database keeps its hash): HttpOnly, SameSite=Lax,
Secure when the panel is reached over https, limited to ``/panel``. A form's CSRF token is an
HMAC of the session's token under a key derived from the installation's secret, so it needs no
storage and changes with every login; before login, of a random value in a cookie of its own
(``access.logins.Logins.form_token``).
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "ileti_session"
PRE_COOKIE = "ileti_pre"
LANG_COOKIE = "ileti_lang"
PATH = "/panel"
CSRF_FIELD = "csrf"


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, path=PATH, httponly=True, samesite="lax", secure=secure(request)
    )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=PATH, httponly=True, samesite="lax", secure=secure(request)
    )


def pre_login_value(request: Request) -> tuple[str, bool]:
    """The pre-login cookie's value, and whether it must be set (it was missing)."""
    value = request.cookies.get(PRE_COOKIE, "")
    if 20 <= len(value) <= 64:
        return value, False
    return secrets.token_urlsafe(24), True


def set_pre_login(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        PRE_COOKIE, value, path=PATH, httponly=True, samesite="lax", secure=secure(request)
    )
