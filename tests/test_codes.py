"""The catalogue is complete: every code the code base raises is in it, and it is all published."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from ileti import codes
from ileti.codes import CATALOGUE, ResultCode
from support.server import ServedGateway

SOURCE = Path(codes.__file__).parent


def _names_used_in_source() -> set[str]:
    used: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path.name == "codes.py":
            continue
        used |= set(re.findall(r"\bcodes\.([A-Z][A-Z0-9_]+)\b", path.read_text()))
    return used


def _literal_codes_in_source() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path.name != "codes.py":
            found |= set(re.findall(r"[\"']TS-\d{4}[\"']", path.read_text()))
    return found


def test_every_code_used_is_a_catalogue_entry() -> None:
    entries = {
        name: getattr(codes, name)
        for name in _names_used_in_source()
        if name not in {"CATALOGUE", "GatewayError"}
    }
    assert all(isinstance(rc, ResultCode) for rc in entries.values()), entries
    assert {rc.code for rc in entries.values()} <= set(CATALOGUE)
    # No code is written out as a string outside the catalogue.
    assert _literal_codes_in_source() == set()


def test_every_catalogue_code_is_raised_somewhere() -> None:
    raised = {getattr(codes, name).code for name in _names_used_in_source() if name != "CATALOGUE"}
    assert set(CATALOGUE) == raised


def test_catalogue_statuses_are_the_published_ones() -> None:
    published = {
        "TS-1000": 200,
        "TS-1024": 200,
        "TS-1027": 403,
        "TS-1028": 403,
        "TS-1031": 401,
        "TS-1033": 400,
        "TS-1040": 200,
        "TS-1060": 403,
        "TS-1061": 403,
        "TS-1064": 200,
        "TS-1065": 403,
        "TS-1025": 400,
        "TS-1026": 400,
        "TS-1029": 403,
        "TS-1030": 403,
        "TS-1032": 403,
        "TS-1034": 400,
        "TS-1035": 400,
        "TS-1036": 400,
        "TS-1037": 400,
        "TS-1038": 400,
        "TS-1039": 404,
        "TS-1041": 403,
        "TS-1042": 400,
        "TS-1043": 400,
        "TS-1044": 403,
        "TS-1045": 413,
        "TS-1046": 400,
        "TS-1050": 500,
        "TS-1051": 503,
        # Ours: İYS consent.
        "TS-1052": 403,
        "TS-1053": 403,
    }
    assert {code: rc.http_status for code, rc in CATALOGUE.items()} == published


def test_openapi_publishes_the_whole_catalogue(served: ServedGateway) -> None:
    document = httpx.get(f"{served.base_url}/openapi.json").json()
    assert document["x-responseCodes"] == [
        {"code": rc.code, "http_status": rc.http_status, "message": rc.message}
        for rc in sorted(CATALOGUE.values(), key=lambda rc: rc.code)
    ]
    for path in ("/auth/check", "/balance", "/senderid/list"):
        responses = document["paths"][path]["post"]["responses"]
        assert {"200", "400", "401", "403", "413", "500", "503"} <= set(responses)
