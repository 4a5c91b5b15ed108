"""Every endpoint goes through :func:`endpoint`: read the body, authenticate, validate, answer.

Errors are raised as :class:`GatewayError` anywhere below and become the envelope here, so no
handler builds an error body by hand, every response is counted in the metrics and logged once,
and no framework error page reaches a client.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import lru_cache
from typing import Any, Generic, TypeVar

import structlog
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ileti import codes
from ileti.access.authenticator import Caller, Network, client_address
from ileti.api.body import api_key_of, parse, read_object
from ileti.api.envelope import EnvelopeResponse, failure, success
from ileti.api.forms import FormBody, read_form
from ileti.codes import GatewayError, ResultCode
from ileti.domain.keys import shown
from ileti.domain.permissions import Permission
from ileti.metrics import HTTP_ABANDONED, HTTP_LATENCY, HTTP_REQUESTS
from ileti.sending.identity import RequestIdentity
from ileti.services import Services
from ileti.validation import quoted

log = structlog.get_logger("ileti.api")

M = TypeVar("M", bound=BaseModel)

# The key under which the HTTP protocol notes in a request's scope that it cut the request's
# body short (why, and the request id of the answer it gave).
CUT = "ileti.cut"


@dataclass(frozen=True)
class Context:
    """One request as a handler sees it."""

    services: Services
    caller: Caller
    request: Request
    path: str
    request_id: str
    body: dict[str, Any]

    def identity(self) -> RequestIdentity:
        """What makes a repeat of this request the same request: its path and body (less the
        key), or its ``Idempotency-Key``."""
        content = {k: v for k, v in self.body.items() if k != "api_key"}
        return RequestIdentity.of(self.path, content, self.request.headers.get("idempotency-key"))


@dataclass(frozen=True)
class Reply:
    """A success answer's code and fields. ``fields["warnings"]``, when a service gives any, is
    a list of ``{"field", "message"}``: the endpoint adds its own and logs them all.
    ``response``: an answer that is not the envelope (a CSV file), sent as it is."""

    result: ResultCode
    fields: dict[str, Any] = field(default_factory=dict)
    response: Response | None = None


Handler = Callable[[Context, M], Awaitable[Reply]]


@dataclass(frozen=True)
class EndpointSpec(Generic[M]):
    """What the OpenAPI document says of an endpoint."""

    path: str
    summary: str
    request_model: type[M]
    response_model: type[BaseModel]
    success: ResultCode
    permission: Permission | None
    errors: tuple[ResultCode, ...]
    tags: tuple[str, ...]
    # How the request's body and the success answer come: JSON, unless an endpoint says.
    body_type: str = "application/json"
    answer_type: str = "application/json"


REGISTRY: list[EndpointSpec[Any]] = []

# Every authenticated endpoint can answer these.
COMMON_ERRORS = (
    codes.INVALID_JSON,
    codes.INVALID_FIELD,
    codes.INVALID_KEY,
    codes.ACCOUNT_INACTIVE,
    codes.API_DISABLED,
    codes.IP_NOT_ALLOWED,
    codes.RATE_LIMITED,
    codes.TOO_MANY_RECIPIENTS,
    codes.INTERNAL_ERROR,
    codes.UNAVAILABLE,
)


def new_request_id(request: Request) -> str:
    return request_id_from(request.headers.get("x-request-id"))


def request_id_from(given: str | None) -> str:
    """The caller's ``X-Request-Id`` when it is a plain one, else a new id."""
    if given and len(given) <= 64 and given.isascii() and given.replace("-", "").isalnum():
        return given
    # An id to find a request by, not a secret: no system call for it.
    return f"{random.getrandbits(64):016x}"


def client_ip(request: Request, proxies: tuple[Network, ...]) -> str | None:
    peer = request.client.host if request.client else None
    if proxies:
        return client_address(peer, request.headers.getlist("x-forwarded-for"), proxies)
    return peer


def endpoint(
    router: APIRouter,
    path: str,
    *,
    summary: str,
    request_model: type[M],
    response_model: type[BaseModel],
    success_code: ResultCode,
    permission: Permission | None,
    errors: tuple[ResultCode, ...] = (),
    tags: tuple[str, ...] = (),
    form: FormBody | None = None,
    answer_type: str = "application/json",
) -> Callable[[Handler[M]], Handler[M]]:
    """Register a POST endpoint at ``path`` and ``path/``. ``form``: the body is
    multipart/form-data (an upload), bounded by its own limit instead of the JSON one."""

    # The body fields the model reads; any other is ignored, and the caller is told so.
    known = frozenset(
        spelling
        for name, info in request_model.model_fields.items()
        for spelling in (name, info.alias or name)
    )

    def register(handler: Handler[M]) -> Handler[M]:
        async def route(request: Request) -> Response:
            started = time.perf_counter()
            state = request.app.state
            services: Services = state.services
            request_id = new_request_id(request)
            key: str | None = None
            warnings: list[dict[str, str]] | None = None
            try:
                if form is None:
                    body = await read_object(request, services.settings.max_body_bytes)
                else:
                    body = await read_form(request, form.max_bytes(services.settings))
                key = api_key_of(request, body)
                caller = await services.access.authenticate(
                    key, client_ip(request, state.trusted_proxies), permission
                )
                context = Context(services, caller, request, path, request_id, body)
                reply = await handler(context, parse(request_model, body))
                if reply.response is not None:
                    record(path, reply.result, time.perf_counter() - started)
                    return reply.response
                fields = reply.fields
                if "warnings" in fields or not known.issuperset(body):
                    fields, warnings = _warned(fields, body, known, path)
                response: EnvelopeResponse = success(reply.result, fields, request_id)
            except ClientDisconnect:
                return _abandoned(request, path, request_id, started)
            except GatewayError as error:
                response = failure(error, request_id)
            except (OperationalError, DBAPIError, OSError, TimeoutError):
                log.exception("storage unavailable", request_id=request_id, path=path)
                response = failure(GatewayError(codes.UNAVAILABLE), request_id)
            except Exception:
                log.exception("internal error", request_id=request_id, path=path)
                response = failure(GatewayError(codes.INTERNAL_ERROR), request_id)
            elapsed = time.perf_counter() - started
            record(path, response.result, elapsed)
            if log.is_enabled_for(logging.INFO):
                log.info(
                    "request",
                    request_id=request_id,
                    path=path,
                    code=response.result.code,
                    status=response.status_code,
                    ms=round(elapsed * 1000, 2),
                    key=shown(key),
                    **({"warnings": warnings} if warnings else {}),
                )
            return response

        route.__name__ = handler.__name__
        # Plain Starlette routes: the body, validation and errors are handled here, so
        # FastAPI's per-request dependency machinery would only add cost.
        router.add_route(path, route, methods=["POST"], include_in_schema=False)
        router.add_route(path + "/", route, methods=["POST"], include_in_schema=False)
        REGISTRY.append(
            EndpointSpec(
                path,
                summary,
                request_model,
                response_model,
                success_code,
                permission,
                tuple(
                    dict.fromkeys(
                        (
                            *COMMON_ERRORS,
                            *((codes.PERMISSION_DENIED,) if permission else ()),
                            *errors,
                        )
                    )
                ),
                tags,
                body_type="multipart/form-data" if form is not None else "application/json",
                answer_type=answer_type,
            )
        )
        return handler

    return register


# Ignored fields named one by one; a body of thousands of them gets one warning for the rest.
_NAMED_IGNORED = 20


def _warned(
    fields: dict[str, Any], body: dict[str, Any], known: frozenset[str], path: str
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The answer's fields with its warnings: one per body field the endpoint ignored, then
    the service's own; no ``warnings`` key when there are none."""
    fields = dict(fields)
    ignored = [name for name in body if name not in known]
    warnings = [_ignored(name, known, path) for name in ignored[:_NAMED_IGNORED]]
    if len(ignored) > _NAMED_IGNORED:
        more = len(ignored) - _NAMED_IGNORED
        warnings.append({"field": "", "message": f"{more} more fields were ignored."})
    warnings += fields.pop("warnings", None) or []
    if warnings:
        fields["warnings"] = warnings
    return fields, warnings


def _ignored(name: str, known: frozenset[str], path: str) -> dict[str, str]:
    message = f"Field {quoted(name)} is not read by {path} and was ignored."
    meant = get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    if meant:
        message += f" Did you mean {meant[0]}?"
    return {"field": quoted(name, 64), "message": message}


def _abandoned(request: Request, path: str, request_id: str, started: float) -> Response:
    """A request whose body never came whole: the client hung up, or the HTTP protocol cut it
    for stalling (and answered 408 itself). Not an error of ours: one line, counted apart."""
    reason, request_id = request.scope.get(CUT) or ("client_closed", request_id)
    _abandons(path, reason).inc()
    log.info(
        "request abandoned",
        request_id=request_id,
        path=path,
        reason=reason,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    # Nobody reads it: the connection is gone.
    return Response(status_code=400)


def record(endpoint_path: str, result: ResultCode, elapsed: float) -> None:
    _requests(endpoint_path, result.code).inc()
    _latency(endpoint_path).observe(elapsed)


# A metric's labelled child is looked up under a lock on every call; the set of paths and codes
# is small and fixed, so each child is looked up once.
@lru_cache(maxsize=4096)
def _requests(endpoint_path: str, code: str) -> Any:
    return HTTP_REQUESTS.labels(endpoint_path, code)


@lru_cache(maxsize=1024)
def _latency(endpoint_path: str) -> Any:
    return HTTP_LATENCY.labels(endpoint_path)


@lru_cache(maxsize=256)
def _abandons(endpoint_path: str, reason: str) -> Any:
    return HTTP_ABANDONED.labels(endpoint_path, reason)
