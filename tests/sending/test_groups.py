"""Groups as the sending service keeps them (a column per field, not an object per recipient):
each message stored with the text that goes out, every recipient left out named by its place,
on both databases."""

from __future__ import annotations

from sqlalchemy import insert, select

from ileti.domain.clock import utcnow
from ileti.domain.pricing import Balance
from ileti.store import accounts
from ileti.store.models import BlacklistEntry, Message
from support.api import Api

NUMBERS = [f"9053{i}1234567" for i in range(2, 7)]


async def _texts(api: Api) -> dict[str, str]:
    async with api.db.read() as conn:
        rows = (await conn.execute(select(Message.sentto, Message.text))).all()
    return {sentto: text for sentto, text in rows}


async def test_an_english_mixed_group_stores_each_text_as_it_goes_out(api: Api) -> None:
    """Texts before the first one a transliteration changes go as given, and so do the plain
    ones after it; the warning names the first changed text and counts the others once."""
    texts = ["plain", "Şeker", "plain too", "Ağaç", "Şeker"]
    reply = await api.post(
        "/group/sendMixed",
        {"api_key": api.key, "title": "ACME", "sentto": NUMBERS, "text": texts, "sms_lang": 0},
    )
    body = reply.json()
    assert (body["result_code"], body["success_count"], body["sms_lang"]) == (
        "TS-1024",
        5,
        "English",
    )
    assert await _texts(api) == dict(
        zip(NUMBERS, ["plain", "Seker", "plain too", "Agac", "Seker"], strict=True)
    )
    [warning] = body["warnings"]
    assert warning["field"] == "text[1]"
    assert "(and 1 other text)" in warning["message"]


async def test_a_group_larger_than_a_blacklist_lookup_is_checked_against_the_whole_list(
    api: Api,
) -> None:
    async with api.db.write() as conn:
        await accounts.topup(conn, api.account_id, Balance.MAIN, 1_000, utcnow())
        await conn.execute(
            insert(BlacklistEntry.__table__).values(
                account_id=api.account_id,
                number="905320000300",
                scope="all",
                source="api",
                created_at=utcnow(),
            )
        )
    numbers = [f"90532{i:07d}" for i in range(600)]
    body = (
        await api.post(
            "/group/send",
            {"api_key": api.key, "title": "ACME", "text": "Kampanya", "sentto": numbers},
        )
    ).json()
    assert (body["success_count"], body["number_of_sms"]) == (599, 599)
    assert body["rejected"] == [{"index": 300, "sentto": "905320000300", "result_code": "TS-1044"}]
    assert "905320000300" not in await _texts(api)
