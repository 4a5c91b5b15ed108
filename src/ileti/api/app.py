"""The FastAPI application: routers, the OpenAPI document, metrics, and the error envelope."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ileti import codes
from ileti.access.authenticator import trusted_networks
from ileti.api.endpoint import new_request_id, record
from ileti.api.envelope import failure
from ileti.api.openapi import build_openapi
from ileti.api.routes import (
    account,
    blacklist,
    campaigns,
    iys,
    otp,
    reports,
    reseller,
    sms,
    webhooks,
)
from ileti.codes import GatewayError
from ileti.services import Services
from ileti.validation import quoted
from ileti.web.app import create_panel

log = structlog.get_logger("ileti.api")

Endpoint = Callable[[Request], Awaitable[Response]]


class Gateway(FastAPI):
    """FastAPI with a direct path to the contract's POST endpoints.

    Those endpoints read their body, answer every error and count themselves (``endpoint``), so
    the middleware stack and the router's linear match would only add cost: a fifth of the CPU
    of a request under load. Everything else (unknown paths, other methods, /openapi.json,
    /metrics) goes through FastAPI as usual.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.direct: dict[str, Endpoint] = {}

    def include_endpoints(self, *routers: APIRouter) -> None:
        """Include routers of ``endpoint`` routes and index their POST routes by path."""
        for router in routers:
            self.include_router(router)
            for route in router.routes:
                if isinstance(route, Route) and route.methods == {"POST"}:
                    self.direct[route.path] = route.endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            direct = self.direct.get(scope["path"])
            if direct is not None:
                scope["app"] = self
                response = await direct(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _exposition() -> bytes:
    """This process's metrics; with ``ileti serve``'s API processes, those of every process
    (the worker's included), added up from the files each writes."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def create_app(services: Services) -> Gateway:
    """The API over ``services`` (whose database its maker closes)."""

    app = Gateway(
        title="ileti",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.services = services
    # Read once: a value that is not a network stops the start.
    app.state.trusted_proxies = trusted_networks(services.settings.trusted_proxies)
    app.include_endpoints(
        account.router,
        reports.router,
        blacklist.router,
        sms.router,
        otp.router,
        webhooks.router,
        campaigns.router,
        iys.router,
        reseller.router,
    )
    document = build_openapi()

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(document)

    # The customer panel, on the same services; the root leads to it.
    app.mount("/panel", create_panel(services))

    @app.get("/", include_in_schema=False)
    @app.get("/panel", include_in_schema=False)
    async def to_panel() -> RedirectResponse:
        return RedirectResponse("/panel/", status_code=307)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(_exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Unknown paths and wrong methods: the same envelope as every other answer.
        request_id = new_request_id(request)
        method, path = quoted(request.method), quoted(request.url.path, 64)
        if exc.status_code == 405:
            # A known path: HTTP's own answer, saying which method it takes.
            allow = (exc.headers or {}).get("Allow", "POST")
            error = GatewayError(
                codes.NOT_FOUND,
                f"{method} {path} is not allowed: this endpoint takes {allow} (Allow: {allow}).",
                headers={"Allow": allow},
            )
            response = failure(error, request_id, status=405)
        else:
            response = failure(
                GatewayError(codes.NOT_FOUND, f"Unknown path: {method} {path}"), request_id
            )
        record("unknown", response.result, 0.0)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        request_id = new_request_id(request)
        log.error("unhandled error", request_id=request_id, error=repr(exc))
        return failure(GatewayError(codes.INTERNAL_ERROR), request_id)

    return app
