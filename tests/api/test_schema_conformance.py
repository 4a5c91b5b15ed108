"""Generated requests against the served OpenAPI document: no 5xx, no undocumented response.

Schemathesis generates both valid and invalid bodies for every documented operation and checks
each response against the document (status codes, content type, schema). The document marks
what each endpoint requires, so a body it allows is refused only for what no schema can say
(``DOCUMENTED_REFUSALS``, listed in the README too).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from ileti.api.app import create_app  # noqa: F401 (registers every endpoint)
from ileti.api.openapi import build_openapi
from support.server import ServedGateway

EXAMPLES_PER_OPERATION = 25

# A body the document allows may still be refused (400) for these, and for nothing else.
DOCUMENTED_REFUSALS = {
    "TS-1034": "a number that does not exist, or cannot receive SMS",
    "TS-1037": "/group/sendMixed's arrays of different lengths",
    "TS-1038": "a schedule in the past or more than a year ahead, or a day that does not exist",
    "TS-1042": "a wrong OTP code",
    "TS-1043": "an OTP expired, used or out of attempts",
    "TS-1046": "a text longer than the segment cap",
}
# And a campaign's file, which no schema describes, for this.
CAMPAIGN_REFUSALS = {
    "TS-1035": "a file that cannot be read, or a template naming a column the file does not have",
}


def _integers(value: object) -> object:
    """JSON Schema counts ``1.0`` as an integer; the gateway does not (a float is no integer, a
    documented choice), so a valid body sends its integers as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


def _operations(served: ServedGateway) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{served.base_url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_endpoint_conforms_to_its_schema(served: ServedGateway, mode: GenerationMode) -> None:
    operations = _operations(served)
    assert {op.path for op in operations} >= {"/auth/check", "/balance", "/senderid/list"}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case: schemathesis.Case) -> None:
            # Generated string keys become the real one, so success paths are exercised too;
            # absent, null and mistyped keys stay and exercise the refusals.
            if isinstance(case.body, dict) and isinstance(case.body.get("api_key"), str):
                case.body["api_key"] = served.key
            if mode is GenerationMode.POSITIVE:
                case.body = _integers(case.body)
            # Whether a schema-valid send is accepted depends on what no schema can say (a number
            # that exists, a title the account owns, a date not yet past), so a refusal of one
            # is not a defect; every other check applies.
            response = case.call(base_url=served.base_url)
            # A generated body over the size limit is refused before its fields are read: 413,
            # which schemathesis does not count among refusals of invalid data.
            if mode is GenerationMode.NEGATIVE and response.status_code == 413:
                assert response.json()["result_code"] == "TS-1045", response.text
                return
            case.validate_response(
                response, excluded_checks=[schemathesis.checks.positive_data_acceptance]
            )
            if mode is GenerationMode.POSITIVE and response.status_code == 400:
                allowed = DOCUMENTED_REFUSALS
                if case.path.startswith("/campaign/"):
                    allowed = {**DOCUMENTED_REFUSALS, **CAMPAIGN_REFUSALS}
                assert response.json()["result_code"] in allowed, response.text

        exercise()


def _request_schema(document: dict, path: str) -> dict:
    ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


@pytest.mark.parametrize(
    ("path", "required", "one_of"),
    [
        ("/sms/send", {"title", "text"}, ["sentto", "mobile"]),
        ("/group/send", {"title", "text", "sentto"}, None),
        ("/group/sendMixed", {"title", "text", "sentto"}, None),
        ("/otp/send", set(), ["sentto", "mobile"]),
        ("/otp/detailed", {"title", "text"}, ["sentto", "mobile"]),
        ("/otp/verify", {"code"}, ["otp_id", "mobile"]),
        ("/sms/status", {"sms_id"}, None),
        ("/blacklist/add", {"number"}, None),
        ("/balance", set(), None),
    ],
)
def test_the_document_marks_the_fields_each_endpoint_requires(
    path: str, required: set[str], one_of: list[str] | None
) -> None:
    schema = _request_schema(build_openapi(), path)
    assert set(schema.get("required", ())) == required
    branches = schema.get("anyOf")
    assert [b["required"] for b in branches or ()] == [[f] for f in one_of or ()]
    for name in required:
        assert schema["properties"][name].get("default", "none") == "none", name


def test_the_group_arrays_are_described() -> None:
    document = build_openapi()
    mixed = _request_schema(document, "/group/sendMixed")["properties"]
    assert (mixed["text"]["type"], mixed["sentto"]["type"]) == ("array", "array")
    assert _request_schema(document, "/group/send")["properties"]["sentto"]["maxItems"] == 100_000
