"""What the API tells a caller who used HTTP the wrong way: a method, a body's encoding, a field
it does not read."""

from __future__ import annotations

import httpx
import pytest

from support.api import Api


def _refused(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["result"] is False
    assert body["result_code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/balance", "/sms/send", "/group/send/"])
async def test_a_known_path_with_another_method_is_405_allowing_post(
    api: Api, method: str, path: str
) -> None:
    response = await api.client.request(method, path)
    body = _refused(response, 405, "TS-1039")
    assert response.headers["allow"] == "POST"
    assert "Allow: POST" in body["result_message"]
    assert method in body["result_message"]


async def test_an_unknown_path_is_still_404(api: Api) -> None:
    _refused(await api.client.get("/no/such/path"), 404, "TS-1039")
    _refused(await api.post("/no/such/path"), 404, "TS-1039")


async def test_a_form_encoded_body_is_told_to_send_json(api: Api) -> None:
    response = await api.client.post("/balance", data={"api_key": api.key})
    body = _refused(response, 400, "TS-1033")
    assert "JSON" in body["result_message"]
    assert "Content-Type: application/json" in body["result_message"]


async def test_a_body_that_is_not_json_says_so_without_mentioning_forms(api: Api) -> None:
    response = await api.client.post(
        "/balance", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    body = _refused(response, 400, "TS-1033")
    assert "form" not in body["result_message"]


async def test_each_ignored_field_is_a_warning(api: Api) -> None:
    reply = (await api.post("/balance", {"api_key": api.key, "sms_lnag": 0, "x": 1})).json()
    assert reply["result_code"] == "TS-1040"
    assert [w["field"] for w in reply["warnings"]] == ["sms_lnag", "x"]
    assert all("ignored" in w["message"] for w in reply["warnings"])


async def test_a_misspelt_field_names_the_one_meant(api: Api) -> None:
    reply = (await api.post("/sms/send", {"api_key": api.key, "sms_lnag": 0})).json()
    # Refused for what is missing; warnings come with success answers only.
    assert reply["result"] is False
    assert "warnings" not in reply
    checked = (await api.post("/auth/check", {"api_key": api.key, "sms_lnag": 0})).json()
    assert len(checked["warnings"]) == 1
    # /auth/check reads no sms_lang either, so no field is suggested there.
    assert "sms_lang" not in checked["warnings"][0]["message"]


async def test_a_field_that_is_almost_right_gets_a_suggestion(api: Api) -> None:
    reply = (
        await api.post(
            "/sms/send",
            {
                "api_key": api.key,
                "title": "ACME",
                "sentto": "905321234567",
                "text": "Merhaba",
                "sms_lnag": 0,
            },
        )
    ).json()
    assert reply["result_code"] == "TS-1024", reply
    [warning] = [w for w in reply.get("warnings", []) if w["field"] == "sms_lnag"]
    assert "sms_lang" in warning["message"]


async def test_thousands_of_ignored_fields_are_named_up_to_twenty(api: Api) -> None:
    body: dict[str, object] = {f"extra{i}": i for i in range(5000)}
    reply = (await api.post("/balance", {"api_key": api.key, **body})).json()
    assert reply["result_code"] == "TS-1040"
    assert [w["field"] for w in reply["warnings"][:20]] == [f"extra{i}" for i in range(20)]
    assert reply["warnings"][20:] == [{"field": "", "message": "4980 more fields were ignored."}]


async def test_no_warnings_key_when_every_field_is_read(api: Api) -> None:
    reply = (await api.post("/balance")).json()
    assert reply["result_code"] == "TS-1040"
    assert "warnings" not in reply


async def test_an_ignored_fields_name_is_escaped_in_the_warning(api: Api) -> None:
    reply = (await api.post("/balance", {"api_key": api.key, "a\u202eb\x00": 1})).json()
    [warning] = reply["warnings"]
    assert "\u202e" not in warning["field"] + warning["message"]
    assert "\x00" not in warning["field"] + warning["message"]
