"""The contract's response envelope: ``result``, ``result_code``, ``result_message``."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ileti.codes import GatewayError, ResultCode


class EnvelopeResponse(Response):
    media_type = "application/json"

    def __init__(
        self,
        result: ResultCode,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        self.result = result
        super().__init__(
            orjson.dumps(payload), status_code=status or result.http_status, headers=headers
        )


def success(result: ResultCode, fields: dict[str, Any], request_id: str) -> EnvelopeResponse:
    payload = {"result": True, "result_code": result.code, "result_message": result.message}
    payload.update(fields)
    return EnvelopeResponse(result, payload, {"X-Request-Id": request_id})


def failure(error: GatewayError, request_id: str, status: int | None = None) -> EnvelopeResponse:
    """The refusal's envelope; ``status`` only where HTTP itself names the problem better than
    the code's own status (a method not allowed)."""
    payload: dict[str, Any] = {
        "result": False,
        "result_code": error.result.code,
        "result_message": error.message,
        "request_id": request_id,
    }
    if error.errors:
        payload["errors"] = error.errors
    headers = {"X-Request-Id": request_id}
    if error.headers:
        headers.update(error.headers)
    return EnvelopeResponse(error.result, payload, headers, status)
