"""Reading a request body: bounded in size, a JSON object, fields checked against a model."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from ileti import codes
from ileti.codes import GatewayError

M = TypeVar("M", bound=BaseModel)


async def read_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; refuses an oversized body before reading all of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _not_json(request, codes.INVALID_JSON.message) from None
    if not isinstance(body, dict):
        raise _not_json(request, "Request body must be a JSON object.")
    return body


# What HTML forms and ``curl -d`` send; the contract takes JSON only.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _not_json(request: Request, message: str) -> GatewayError:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(_FORMS):
        message = (
            "Request body is form-encoded; send a JSON object with "
            "Content-Type: application/json (curl: --json or -H 'Content-Type: application/json')."
        )
    return GatewayError(codes.INVALID_JSON, message)


def _too_large(max_bytes: int) -> GatewayError:
    return GatewayError(
        codes.TOO_MANY_RECIPIENTS, f"Request body is larger than {max_bytes} bytes."
    )


def api_key_of(request: Request, body: dict[str, Any]) -> str | None:
    """The key from the body, else from ``Authorization: Bearer`` or ``X-API-Key``. An empty
    ``api_key`` in the body is no key (clients that fill every field send one)."""
    key = body.get("api_key")
    if key is not None:
        if not isinstance(key, str):
            raise GatewayError(
                codes.INVALID_FIELD,
                "api_key must be a string.",
                errors=[{"field": "api_key", "message": "must be a string"}],
            )
        if key.strip():
            return key
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return request.headers.get("x-api-key")


def parse(model: type[M], body: dict[str, Any]) -> M:
    """Validate ``body`` against ``model``; problems become INVALID_FIELD, naming the fields."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise GatewayError(
            codes.INVALID_FIELD, f"Invalid or missing field: {fields}.", errors=errors[:20]
        ) from None
