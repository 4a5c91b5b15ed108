"""Sending from the panel: the form, the live counter, single and group sends through the
sending service, repeats, refusals and another account's contact group."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from ileti.api.routes.sms import SEND_ERRORS
from ileti.compliance.consents import IysChange
from ileti.domain.consent import iys_date
from ileti.domain.encoding import measure
from ileti.store import accounts
from ileti.store.models import Contact, ContactGroup, Message
from ileti.web.i18n import ISTANBUL, catalogue
from ileti.web.routes.send import CONTENT_TYPES, ENCODING_NAMES, LANGS, REJECTIONS
from ileti.web.session import LANG_COOKIE
from support.panel import Panel

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


async def _messages(panel: Panel, account_id: int | None = None) -> list:
    table = Message.__table__
    query = select(table).where(table.c.account_id == (account_id or panel.account_id))
    async with panel.db.read() as conn:
        return list((await conn.execute(query.order_by(table.c.id))).mappings())


async def _credits(panel: Panel, account_id: int | None = None) -> int:
    balances = await panel.services.accounts.balances(account_id or panel.account_id)
    return balances.credits


async def _group(panel: Panel, account_id: int, name: str, numbers: list[str]) -> int:
    now = panel.clock.now()
    async with panel.db.write() as conn:
        made = await conn.execute(
            insert(ContactGroup)
            .values(account_id=account_id, name=name, created_at=now)
            .returning(ContactGroup.id)
        )
        group_id = made.scalar_one()
        for number in numbers:
            await conn.execute(
                insert(Contact).values(
                    group_id=group_id, account_id=account_id, number=number, created_at=now
                )
            )
    return group_id


async def _nonce(panel: Panel) -> str:
    found = NONCE.search((await panel.get("/panel/send")).text)
    assert found
    return found.group(1)


async def _send(panel: Panel, **fields: object):
    body = {"title": "ACME", "content_type": "0", "sms_lang": "auto", "text": "Merhaba"}
    body.setdefault("nonce", await _nonce(panel))
    return await panel.post("/panel/send", {**body, **fields})


def _testid(page: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', page)
    assert found, f"{name} not in the page"
    return html.unescape(found.group(1)).strip()


async def test_the_form_offers_only_active_titles_and_the_apis_fields(panel: Panel) -> None:
    async with panel.db.write() as conn:
        await accounts.add_title(conn, panel.account_id, "OLDNAME", panel.clock.now())
    page = (await panel.get("/panel/send")).text
    assert '<option value="ACME"' in page
    assert "OLDNAME" not in page and "RIVAL" not in page
    for name in ("title", "content_type", "text", "sms_lang", "sentto", "contact_group"):
        assert f'name="{name}"' in page
    assert 'type="datetime-local" name="scheduled_at"' in page
    assert 'name="validity_minutes"' in page
    assert '<option value="auto" selected' in page
    assert 'hx-post="/panel/send/counter"' in page
    assert _testid(page, "counter-segments") == "0"


async def test_a_single_send_is_a_message_of_the_account_under_its_panel_key(
    panel: Panel,
) -> None:
    answer = await _send(panel, sentto=" 0532 123 45 67 ", text="Merhaba\r\ndünya")
    assert answer.status_code == 200, answer.text
    (message,) = await _messages(panel)
    assert message["sentto"] == "905321234567"
    assert message["text"] == "Merhaba\ndünya"
    assert message["kind"] == "single"
    assert message["key_id"] == await panel.services.keys.panel_key(panel.account_id)
    assert f'href="/panel/sends/message/{message["id"]}"' in answer.text
    assert _testid(answer.text, "result-accepted") == "1 / 1"
    assert _testid(answer.text, "result-credits") == str(message["segments"])
    assert _testid(answer.text, "result-balance") == "99"
    assert await _credits(panel) == 99


async def test_pasted_numbers_with_spaces_commas_and_semicolons_make_a_group(
    panel: Panel,
) -> None:
    pasted = "0532 111 22 33\r\n+90 532 111 22 34, 5321112235;0532 111 22 33;\n not a number"
    answer = await _send(panel, sentto=pasted)
    assert answer.status_code == 200, answer.text
    messages = await _messages(panel)
    assert [m["sentto"] for m in messages] == ["905321112233", "905321112234", "905321112235"]
    group_id = messages[0]["group_id"]
    assert group_id is not None and {m["group_id"] for m in messages} == {group_id}
    assert f'href="/panel/sends/group/{group_id}"' in answer.text
    assert _testid(answer.text, "result-accepted") == "3 / 5"
    rejected = answer.text[answer.text.index('data-testid="rejected"') :]
    assert "0532 111 22 33" in rejected and "TS-1035" in rejected
    assert "not a number" in rejected and "TS-1034" in rejected
    assert await _credits(panel) == 97


async def test_typed_numbers_and_a_contact_group_go_together(panel: Panel) -> None:
    group_id = await _group(panel, panel.account_id, "Customers", ["905321110001", "905321110002"])
    form = (await panel.get("/panel/send")).text
    assert f'<option value="{group_id}"' in form and "Customers (2)" in form
    answer = await _send(panel, sentto="0532 111 00 01\n0532 111 00 03", contact_group=group_id)
    assert answer.status_code == 200, answer.text
    sent = sorted(m["sentto"] for m in await _messages(panel))
    assert sent == ["905321110001", "905321110002", "905321110003"]
    assert _testid(answer.text, "result-accepted") == "3 / 4"


async def test_a_group_alone_is_a_group_send_even_of_one_number(panel: Panel) -> None:
    group_id = await _group(panel, panel.account_id, "One", ["905321110009"])
    answer = await _send(panel, contact_group=group_id)
    assert answer.status_code == 200, answer.text
    (message,) = await _messages(panel)
    assert message["group_id"] is not None


async def test_a_double_post_with_the_same_nonce_sends_once(panel: Panel) -> None:
    nonce = await _nonce(panel)
    first = await _send(panel, sentto="05321234567", nonce=nonce)
    second = await _send(panel, sentto="05321234567", nonce=nonce)
    assert first.status_code == second.status_code == 200
    (message,) = await _messages(panel)
    assert f"/panel/sends/message/{message['id']}" in second.text
    assert await _credits(panel) == 99
    # A new form sends again.
    assert (await _send(panel, sentto="05321234567")).status_code == 200
    assert len(await _messages(panel)) == 2


async def test_a_group_posted_twice_with_one_nonce_is_one_group(panel: Panel) -> None:
    nonce = await _nonce(panel)
    for _ in range(2):
        answer = await _send(panel, sentto="05321234567, 05321234568", nonce=nonce)
        assert answer.status_code == 200, answer.text
    assert len(await _messages(panel)) == 2
    assert await _credits(panel) == 98


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"sentto": "0532 123 45 67", "text": "x" * 1600}, "TS-1046"),
        ({"sentto": ", ".join(f"0532 000 {i:04d}" for i in range(101))}, "TS-1027"),
        ({"sentto": "0212 555 12 34"}, "TS-1034"),
        ({"sentto": ""}, "TS-1025"),
        ({"sentto": "0532 123 45 67", "title": "NOSUCH"}, "TS-1029"),
        ({"sentto": "0532 123 45 67", "scheduled_at": "2001-01-01T10:00"}, "TS-1038"),
        ({"sentto": "0532 123 45 67", "validity_minutes": "9999"}, "TS-1035"),
    ],
)
async def test_a_refusal_keeps_the_form_and_changes_nothing(
    panel: Panel, fields: dict[str, str], code: str
) -> None:
    text = fields.get("text", "Kampanya: şimdi %20 indirim")
    answer = await _send(panel, **{"text": text, **fields})
    assert answer.status_code >= 400
    assert code in _testid(answer.text, "send-refusal")
    assert f">{html.escape(text)}</textarea>" in answer.text
    assert await _messages(panel) == []
    assert await _credits(panel) == 100


async def test_not_enough_credits_is_said_in_turkish(panel: Panel) -> None:
    numbers = ", ".join(f"0532 000 {i:04d}" for i in range(101))
    answer = await _send(panel, sentto=numbers)
    assert answer.status_code == 403
    assert "Bakiye yetersiz. (TS-1027)" in answer.text


async def test_an_inactive_title_is_not_offered_and_posting_it_is_refused(panel: Panel) -> None:
    async with panel.db.write() as conn:
        await accounts.add_title(conn, panel.account_id, "PENDING", panel.clock.now())
    assert "PENDING" not in (await panel.get("/panel/send")).text
    answer = await _send(panel, title="PENDING", sentto="0532 123 45 67")
    assert answer.status_code == 403
    assert "TS-1028" in _testid(answer.text, "send-refusal")
    assert await _messages(panel) == []


async def test_a_scheduled_send_is_due_at_the_istanbul_time_given(panel: Panel) -> None:
    local = (
        (panel.clock.now() + timedelta(days=1))
        .astimezone(ISTANBUL)
        .replace(hour=9, minute=30, second=0, microsecond=0)
    )
    answer = await _send(
        panel,
        sentto="0532 123 45 67",
        scheduled_at=local.strftime("%Y-%m-%dT%H:%M"),
        validity_minutes="60",
    )
    assert answer.status_code == 200, answer.text
    (message,) = await _messages(panel)
    assert message["due_at"] == local
    assert message["expires_at"] - message["due_at"] == timedelta(minutes=60)


async def test_the_rivals_contact_group_is_not_found(panel: Panel) -> None:
    theirs = await _group(panel, panel.rival_account_id, "Theirs", ["905321119999"])
    answer = await _send(panel, contact_group=theirs)
    assert answer.status_code == 404
    counter = await panel.post(
        "/panel/send/counter", {"text": "hi", "sms_lang": "auto", "contact_group": theirs}
    )
    assert counter.status_code == 404
    assert "905321119999" not in answer.text + counter.text
    assert await _messages(panel) == []
    assert await _messages(panel, panel.rival_account_id) == []
    assert await _credits(panel) == 100
    form = (await panel.get(f"/panel/send?contact_group={theirs}")).text
    assert "Theirs" not in form


@pytest.mark.parametrize(
    ("text", "sms_lang", "encoding"),
    [
        ("Hello, your code is 1234", "auto", "gsm7"),
        ("şğıİçöü", "auto", "ucs2"),
        ("şğıİçöü", "1", "gsm7-turkish-single"),
        ("Selam 😀", "auto", "ucs2"),
        ("x" * 161, "auto", "gsm7"),
    ],
)
async def test_the_counter_says_what_the_encoding_module_says(
    panel: Panel, text: str, sms_lang: str, encoding: str
) -> None:
    answer = await panel.post(
        "/panel/send/counter",
        {"text": text, "sms_lang": sms_lang, "sentto": "0532 111 22 33; 0532 111 22 34"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert "<html" not in answer.text
    measured = measure(text, sms_lang)
    assert f'data-encoding="{encoding}"' in answer.text
    assert _testid(answer.text, "counter-characters") == str(len(text))
    assert _testid(answer.text, "counter-segments") == str(measured.segments)
    assert _testid(answer.text, "counter-recipients") == "2"
    assert _testid(answer.text, "counter-credits") == str(2 * measured.segments)


async def test_the_counter_prices_numbers_abroad_apart(panel: Panel) -> None:
    answer = await panel.post(
        "/panel/send/counter",
        {"text": "Hello", "sms_lang": "auto", "sentto": "05321112233\n+44 7911 123456"},
    )
    assert _testid(answer.text, "counter-credits") == "1"
    prices = await panel.services.prices.table()
    assert (
        _testid(answer.text, "counter-abroad")
        == f"{prices['GB'] / 100:.2f}".replace(".", ",") + " TL"
    )


async def test_a_refused_form_shows_the_counter_without_javascript(panel: Panel) -> None:
    answer = await _send(panel, text="şğıİçöü", sms_lang="1", sentto="")
    assert answer.status_code == 400
    assert 'data-encoding="gsm7-turkish-single"' in answer.text
    assert _testid(answer.text, "counter-segments") == "1"


async def test_the_page_reads_in_english_too(panel: Panel) -> None:
    panel.owner.client.cookies.set(LANG_COOKIE, "en", path="/panel")
    page = (await panel.get("/panel/send")).text
    assert "Send SMS" in page and "Recipients" in page
    answer = await _send(panel, sentto="0532 123 45 67", text="Hello")
    assert "Send accepted" in answer.text and "Credits charged" in answer.text


def test_every_name_and_refusal_the_page_shows_has_its_turkish() -> None:
    shown = [
        *(name for _, name in LANGS),
        *(name for _, name in CONTENT_TYPES),
        *REJECTIONS.values(),
        *(name for name in ENCODING_NAMES.values() if name != "—"),
        *(error.message for error in SEND_ERRORS),
    ]
    assert [name for name in shown if name not in catalogue()] == []


async def test_advertising_from_the_panel_needs_the_chosen_kind_of_iys_consent(
    panel: Panel,
) -> None:
    await panel.services.consents.configure(
        "acme",
        IysChange(
            url="http://127.0.0.1:9",
            iys_code="700123",
            brand_code="800456",
            username="brand",
            password="secret",
            mode="enforce",
        ),
    )
    when = iys_date(panel.clock.now() - timedelta(days=1))
    outcome = await panel.services.consents.add(
        panel.account_id,
        [{"recipient": "05321234567", "recipient_type": "TACIR", "status": "ONAY",
          "source": "HS_WEB", "consent_date": when}],
        "panel",
    )  # fmt: skip
    assert outcome.accepted == 1
    form = (await panel.get("/panel/send")).text
    assert 'name="iys_recipient_type"' in form
    refused = await _send(panel, sentto="05321234567", content_type="2")
    assert refused.status_code == 403
    assert "TS-1052" in _testid(refused.text, "send-refusal")
    assert await _messages(panel) == []
    sent = await _send(panel, sentto="05321234567", content_type="2", iys_recipient_type="TACIR")
    assert sent.status_code in (200, 303), sent.text
    assert len(await _messages(panel)) == 1
