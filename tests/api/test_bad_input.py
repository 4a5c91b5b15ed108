"""Bad requests get a clear TS code in the contract's envelope and change nothing."""

from __future__ import annotations

import httpx
import pytest

from ileti.store import accounts
from support.api import Api


def _assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["result"] is False
    assert body["result_code"] == code
    assert body["result_message"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"a string"', b"42", b"null"]
)
async def test_body_that_is_not_a_json_object_is_ts_1033(api: Api, raw: bytes) -> None:
    response = await api.client.post(
        "/balance", content=raw, headers={"Content-Type": "application/json"}
    )
    _assert_envelope(response, 400, "TS-1033")


async def test_ten_megabyte_body_is_refused_early(api: Api) -> None:
    body = b'{"api_key": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = await api.client.post(
        "/balance", content=body, headers={"Content-Type": "application/json"}
    )
    _assert_envelope(response, 413, "TS-1045")


@pytest.mark.parametrize("value", [5, 1.5, True, ["k"], {"k": 1}])
async def test_wrong_type_for_api_key_is_ts_1035_naming_the_field(api: Api, value: object) -> None:
    body = _assert_envelope(await api.post("/auth/check", {"api_key": value}), 400, "TS-1035")
    assert body["errors"] == [{"field": "api_key", "message": "must be a string"}]


async def test_unknown_fields_are_ignored(api: Api) -> None:
    response = await api.post("/balance", {"api_key": api.key, "extra": [1, {"x": None}]})
    assert response.json()["result_code"] == "TS-1040"


async def test_unknown_path_and_wrong_method_get_the_envelope(api: Api) -> None:
    _assert_envelope(await api.post("/no/such/path"), 404, "TS-1039")
    # A known path with another method: 405, saying what it takes (issue 16, item 10).
    response = await api.client.get("/balance")
    body = _assert_envelope(response, 405, "TS-1039")
    assert "POST" in body["result_message"]
    assert response.headers["allow"] == "POST"


async def test_bad_input_changes_nothing(api: Api) -> None:
    for raw in (b"[]", b"{", b'{"api_key": 1}'):
        await api.client.post("/balance", content=raw)
    async with api.db.read() as conn:
        assert await accounts.balances(conn, api.account_id) == (150, 1250)
