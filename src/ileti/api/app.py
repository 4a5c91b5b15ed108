"""The FastAPI application: routers, the OpenAPI document, metrics, and the error envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ileti import codes
from ileti.api.endpoint import new_request_id, record
from ileti.api.envelope import failure
from ileti.api.gateway import ApiState
from ileti.api.openapi import build_openapi
from ileti.api.routes import account, blacklist, otp, reports, sms, webhooks
from ileti.codes import GatewayError
from ileti.config import Settings
from ileti.store.db import Database

log = structlog.get_logger("ileti.api")


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """The API. With ``db`` given, the caller owns the database; otherwise the app does."""
    owns_db = db is None
    database = db or settings.database()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_db:
            await database.close()

    app = FastAPI(
        title="ileti",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )
    app.state.api = ApiState.create(settings, database)
    app.include_router(account.router)
    app.include_router(reports.router)
    app.include_router(blacklist.router)
    app.include_router(sms.router)
    app.include_router(otp.router)
    app.include_router(webhooks.router)
    document = build_openapi()

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(document)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Unknown paths and wrong methods: the same envelope as every other answer.
        request_id = new_request_id(request)
        message = f"Unknown path: {request.method} {request.url.path}"
        if exc.status_code == 405:
            message += " (every endpoint takes POST)"
        response = failure(GatewayError(codes.NOT_FOUND, message), request_id)
        record("unknown", response.result, 0.0)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        request_id = new_request_id(request)
        log.error("unhandled error", request_id=request_id, error=repr(exc))
        return failure(GatewayError(codes.INTERNAL_ERROR), request_id)

    return app
