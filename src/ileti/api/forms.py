"""Reading a multipart/form-data body (an upload): bounded in size before it is all read, its
fields as text and its one file as a ``FormFile``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from ileti import codes
from ileti.codes import GatewayError
from ileti.config import Settings

# Text fields a form may have (an upload's options are a dozen).
_MAX_FIELDS = 64


@dataclass(frozen=True)
class FormBody:
    """A form endpoint's body limit, from the settings (an upload's is the file limit plus
    room for the other fields)."""

    max_bytes: Callable[[Settings], int]


@dataclass(frozen=True, slots=True)
class FormFile:
    file_name: str
    data: bytes


async def read_form(request: Request, max_bytes: int) -> dict[str, Any]:
    """The form's fields by name; a file field is a ``FormFile``."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        raise GatewayError(
            codes.INVALID_JSON,
            "This endpoint takes multipart/form-data (curl: -F api_key=… -F file=@customers.xlsx).",
        )
    raw = await _bounded(request, max_bytes)

    async def replay() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(
            max_files=1, max_fields=_MAX_FIELDS, max_part_size=1024 * 1024
        )
    except Exception as exc:  # the parser's errors are Starlette's HTTPException or its own
        raise GatewayError(
            codes.INVALID_JSON, f"The multipart/form-data body cannot be read: {exc}."
        ) from None
    body: dict[str, Any] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                body[name] = FormFile(value.filename or "", await value.read())
            else:
                body[name] = value
    finally:
        await form.close()
    return body


async def _bounded(request: Request, max_bytes: int) -> bytes:
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
    return b"".join(chunks)


def _too_large(max_bytes: int) -> GatewayError:
    return GatewayError(
        codes.TOO_MANY_RECIPIENTS, f"Request body is larger than {max_bytes:,} bytes."
    )
