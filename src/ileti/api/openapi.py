"""The OpenAPI document, built from the endpoint registry and the code catalogue.

It is the single source of truth for clients: every endpoint with its request and response
schemas, every status it can answer with, and ``x-responseCodes``, the whole TS catalogue.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ileti import __version__
from ileti.api.endpoint import REGISTRY
from ileti.api.schemas import ErrorEnvelope
from ileti.codes import CATALOGUE, ResultCode


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_openapi() -> dict[str, Any]:
    models: list[type[BaseModel]] = [ErrorEnvelope]
    for spec in REGISTRY:
        models += [spec.request_model, spec.response_model]
    unique = list(dict.fromkeys(models))
    _, defs = models_json_schema(
        [(m, "validation" if m in _request_models() else "serialization") for m in unique],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, Any] = {}
    for spec in REGISTRY:
        answer = (
            {"schema": _ref(spec.response_model)}
            if spec.answer_type == "application/json"
            else {"schema": {"type": "string"}}
        )
        responses: dict[str, Any] = {
            str(spec.success.http_status): {
                "description": f"{spec.success.code}: {spec.success.message}",
                "content": {spec.answer_type: answer},
            }
        }
        for status, group in _by_status(spec.errors).items():
            responses[str(status)] = {
                "description": "; ".join(f"{c.code}: {c.message}" for c in group),
                "content": {"application/json": {"schema": _ref(ErrorEnvelope)}},
            }
        operation: dict[str, Any] = {
            "summary": spec.summary,
            "operationId": spec.path.strip("/").replace("/", "_"),
            "tags": list(spec.tags),
            "requestBody": {
                "required": True,
                "content": {spec.body_type: {"schema": _ref(spec.request_model)}},
            },
            "responses": responses,
            "x-resultCodes": [spec.success.code, *(c.code for c in spec.errors)],
        }
        if spec.permission is not None:
            operation["x-permission"] = spec.permission.value
        paths[spec.path] = {"post": operation}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ileti: TurkeySMS API V4",
            "version": __version__,
            "description": (
                "Every endpoint is POST with a JSON body. The key goes in `api_key` (or "
                "`Authorization: Bearer`, or `X-API-Key`). Clients branch on `result_code`."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "x-responseCodes": [
            {"code": rc.code, "http_status": rc.http_status, "message": rc.message}
            for rc in sorted(CATALOGUE.values(), key=lambda rc: rc.code)
        ],
    }


def _request_models() -> set[type[BaseModel]]:
    return {spec.request_model for spec in REGISTRY}


def _by_status(results: tuple[ResultCode, ...]) -> dict[int, list[ResultCode]]:
    grouped: dict[int, list[ResultCode]] = {}
    for rc in results:
        grouped.setdefault(rc.http_status, []).append(rc)
    return dict(sorted(grouped.items()))
