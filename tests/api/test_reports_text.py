"""/reports/messages with ``with_text``: each message's text as stored, an OTP's masked."""

from __future__ import annotations

import httpx

from support.api import Api


def _messages(response: httpx.Response) -> list[dict]:
    body = response.json()
    assert body["result"] is True, body
    return body["messages"]


async def test_texts_come_only_when_asked_for(api: Api) -> None:
    sent = await api.post(
        "/group/sendMixed",
        {
            "api_key": api.key,
            "title": "ACME",
            "sentto": ["05321234567", "05331234567"],
            "text": ["Sayın Ayşe, borcunuz 100 TL.", "Sayın Can, borcunuz 9 TL."],
        },
    )
    group_id = sent.json()["group_id"]
    asked = {"api_key": api.key, "group_id": group_id}
    with_text = _messages(await api.post("/reports/messages", {**asked, "with_text": True}))
    assert {m["sentto"]: m["text"] for m in with_text} == {
        "905321234567": "Sayın Ayşe, borcunuz 100 TL.",
        "905331234567": "Sayın Can, borcunuz 9 TL.",
    }
    assert all("text" not in m for m in _messages(await api.post("/reports/messages", asked)))


async def test_a_with_text_that_is_no_boolean_is_refused(api: Api) -> None:
    response = await api.post("/reports/messages", {"api_key": api.key, "with_text": "yes"})
    assert response.json()["result_code"] == "TS-1035"
