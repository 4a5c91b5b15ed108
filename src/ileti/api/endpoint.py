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
from functools import lru_cache
from typing import Any, Generic, TypeVar

import structlog
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.requests import Request
from starlette.responses import Response

from ileti import codes
from ileti.access.authenticator import Caller
from ileti.api.body import api_key_of, parse, read_object
from ileti.api.envelope import EnvelopeResponse, failure, success
from ileti.codes import GatewayError, ResultCode
from ileti.domain.keys import shown
from ileti.domain.permissions import Permission
from ileti.metrics import HTTP_LATENCY, HTTP_REQUESTS
from ileti.sending.identity import RequestIdentity
from ileti.services import Services

log = structlog.get_logger("ileti.api")

M = TypeVar("M", bound=BaseModel)


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
    result: ResultCode
    fields: dict[str, Any] = field(default_factory=dict)


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
    given = request.headers.get("x-request-id")
    if given and len(given) <= 64 and given.isascii() and given.replace("-", "").isalnum():
        return given
    # An id to find a request by, not a secret: no system call for it.
    return f"{random.getrandbits(64):016x}"


def client_ip(request: Request, services: Services) -> str | None:
    if services.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else None


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
) -> Callable[[Handler[M]], Handler[M]]:
    """Register a POST endpoint at ``path`` and ``path/``."""

    def register(handler: Handler[M]) -> Handler[M]:
        async def route(request: Request) -> Response:
            started = time.perf_counter()
            services: Services = request.app.state.services
            request_id = new_request_id(request)
            key: str | None = None
            try:
                body = await read_object(request, services.settings.max_body_bytes)
                key = api_key_of(request, body)
                caller = await services.access.authenticate(
                    key, client_ip(request, services), permission
                )
                context = Context(services, caller, request, path, request_id, body)
                reply = await handler(context, parse(request_model, body))
                response: EnvelopeResponse = success(reply.result, reply.fields, request_id)
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
            )
        )
        return handler

    return register


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
