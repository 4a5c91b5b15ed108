"""Excel to SMS in the panel: upload, compose with the first row live, preview, start, follow,
cancel; refusals that change nothing, and another account's upload or campaign as a 404."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from ileti.store.models import Message
from support.panel import Panel

FILE = (
    "Ad;Telefon;Tutar\n"
    "Ayşe Yılmaz;0532 111 22 33;150,75\n"
    "Çağrı Öztürk;+90 533 444 55 66;89\n"
    "İsmail Şen;12345;10\n"
    "Ayşe Yılmaz;05321112233;150,75\n"
).encode()
TEMPLATE = "Sayın {Ad}, {Tutar} TL borcunuz bulunmaktadır."
UPLOAD = re.compile(r"/panel/campaigns/upload/([A-Za-z0-9_-]+)$")


def _testid(page: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', page)
    assert found, f"{name} not in the page"
    return html.unescape(found.group(1)).strip()


async def _upload(panel: Panel, data: bytes = FILE, name: str = "müşteriler.csv") -> str:
    answer = await panel.post("/panel/campaigns/new", files={"file": (name, data, "text/csv")})
    assert answer.status_code == 303, answer.text
    found = UPLOAD.search(answer.headers["location"])
    assert found
    return found.group(1)


def _form(**fields: str) -> dict[str, object]:
    return {
        "title": "ACME",
        "text": TEMPLATE,
        "header": "true",
        "phone_column": "Telefon",
        "sms_lang": "auto",
        "content_type": "0",
        "read_as": "1",
        **fields,
    }


async def _start(panel: Panel, upload_id: str, **fields: str) -> int:
    answer = await panel.post(f"/panel/campaigns/upload/{upload_id}/start", _form(**fields))
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1])


async def _messages(panel: Panel) -> int:
    async with panel.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(Message))).scalar_one()


async def _credits(panel: Panel) -> int:
    return (await panel.services.accounts.balances(panel.account_id)).credits


async def test_the_list_starts_empty_and_the_menu_leads_to_it(english: Panel) -> None:
    page = (await english.get("/panel/campaigns")).text
    assert 'href="/panel/campaigns" aria-current="page">Excel to SMS' in page
    assert "No campaigns yet." in page
    assert 'href="/panel/campaigns/new"' in page


async def test_an_upload_offers_its_columns_and_finds_the_phone_column(english: Panel) -> None:
    upload_id = await _upload(english)
    page = (await english.get(f"/panel/campaigns/upload/{upload_id}")).text
    assert _testid(page, "file-name") == "müşteriler.csv"
    buttons = re.findall(r'data-insert="([^"]*)"', page)
    assert buttons == ["{Ad}", "{Telefon}", "{Tutar}"]
    assert '<option value="Telefon" selected>' in page
    assert f'hx-post="/panel/campaigns/upload/{upload_id}/counter"' in page
    # Nothing is previewed until asked.
    assert 'data-testid="preview-counts"' not in page


async def test_the_counter_shows_the_first_row_personalised(english: Panel) -> None:
    upload_id = await _upload(english)
    path = f"/panel/campaigns/upload/{upload_id}/counter"
    fragment = (await english.post(path, _form())).text
    assert (
        _testid(fragment, "first-message") == "Sayın Ayşe Yılmaz, 150,75 TL borcunuz bulunmaktadır."
    )
    assert _testid(fragment, "counter-segments") == "1"
    assert _testid(fragment, "counter-characters") == str(
        len("Sayın Ayşe Yılmaz, 150,75 TL borcunuz bulunmaktadır.")
    )

    unknown = (await english.post(path, _form(text="Sayın {Soyad}"))).text
    problem = _testid(unknown, "template-problem")
    assert "Soyad" in problem and "Ad" in problem and "Tutar" in problem


async def test_the_preview_counts_prices_and_lists_the_rows_left_out(english: Panel) -> None:
    upload_id = await _upload(english)
    page = (await english.post(f"/panel/campaigns/upload/{upload_id}", _form())).text
    counts = {
        key: _testid(page, f"count-{key}")
        for key in ("rows", "valid", "invalid", "duplicates", "blacklisted", "credits", "balance")
    }
    assert counts == {
        "rows": "4",
        "valid": "2",
        "invalid": "1",
        "duplicates": "1",
        "blacklisted": "0",
        "credits": "2",
        "balance": "100",
    }
    samples = page[page.index('data-testid="samples"') :]
    assert "Sayın Çağrı Öztürk, 89 TL borcunuz bulunmaktadır." in html.unescape(samples)
    rejects = page[page.index('data-testid="rejects"') :]
    assert "12345" in rejects and "TS-1034" in rejects
    assert "2 messages will go out now, for 2 credits." in page

    link = html.unescape(re.search(r'href="([^"]+)" data-testid="rejects-csv"', page).group(1))
    csv_file = await english.get(link)
    assert csv_file.headers["content-type"].startswith("text/csv")
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,Number,Reason,Code"
    assert [line.split(",")[0] for line in lines[1:]] == ["4", "5"]
    # A preview charges nothing and sends nothing.
    assert await _credits(english) == 100 and await _messages(english) == 0


async def test_a_started_campaign_is_followed_and_can_be_cancelled(english: Panel) -> None:
    upload_id = await _upload(english)
    campaign_id = await _start(english, upload_id, name="Borç hatırlatma")
    assert await _credits(english) == 98

    page = (await english.get(f"/panel/campaigns/{campaign_id}")).text
    assert "Borç hatırlatma" in page and "müşteriler.csv" in page and TEMPLATE in page
    assert _testid(page, "state-accepted") == "2" and _testid(page, "state-queued") == "2"
    assert f'hx-get="/panel/campaigns/{campaign_id}" hx-trigger="every 2s"' in page
    fragment = await english.owner.client.get(
        f"/panel/campaigns/{campaign_id}", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text and 'data-final="false"' in fragment.text

    listed = (await english.get("/panel/campaigns")).text
    assert f'data-campaign-id="{campaign_id}"' in listed and "Borç hatırlatma" in listed

    confirm = (await english.get(f"/panel/campaigns/{campaign_id}/cancel")).text
    assert "2 messages not yet handed to an operator" in confirm
    assert await _credits(english) == 98
    done = await english.post(f"/panel/campaigns/{campaign_id}/cancel")
    assert done.status_code == 303
    page = (await english.get(done.headers["location"])).text
    assert "2 messages cancelled" in page
    assert _testid(page, "state-cancelled") == "2"
    assert 'data-final="true"' in page and "hx-trigger" not in page
    assert await _credits(english) == 100


async def test_starting_twice_starts_once(english: Panel) -> None:
    upload_id = await _upload(english)
    first = await _start(english, upload_id)
    assert await _start(english, upload_id) == first
    assert await _credits(english) == 98 and await _messages(english) == 2


async def test_a_scheduled_campaign_says_when(english: Panel) -> None:
    upload_id = await _upload(english)
    when = (english.clock.now() + timedelta(days=3)).date().isoformat()
    campaign_id = await _start(english, upload_id, scheduled_at=f"{when}T09:30")
    page = (await english.get("/panel/campaigns")).text
    row = page[page.index(f'data-campaign-id="{campaign_id}"') :]
    assert "Scheduled for" in row and "09:30" in row


async def test_refusals_show_and_change_nothing(english: Panel) -> None:
    garbage = await _upload(english, b"PK\x03\x04 not a workbook", "liste.xlsx")
    page = await english.get(f"/panel/campaigns/upload/{garbage}")
    assert page.status_code == 400
    assert _testid(page.text, "campaign-refusal")

    many = "Telefon\n" + "".join(f"0532{n:07d}\n" for n in range(150))
    upload_id = await _upload(english, many.encode())
    answer = await english.post(
        f"/panel/campaigns/upload/{upload_id}/start", _form(text="Kampanya", read_as="")
    )
    assert answer.status_code >= 400
    assert "TS-1027" in _testid(answer.text, "campaign-refusal")
    assert await _credits(english) == 100 and await _messages(english) == 0

    empty = await english.post("/panel/campaigns/new", files={"file": ("", b"", "text/csv")})
    assert empty.status_code == 400


async def test_a_form_without_its_token_starts_nothing(panel: Panel) -> None:
    upload_id = await _upload(panel)
    answer = await panel.owner.client.post(
        f"/panel/campaigns/upload/{upload_id}/start", data=_form()
    )
    assert answer.status_code == 403
    assert await _messages(panel) == 0


async def test_another_accounts_upload_and_campaign_are_not_found(panel: Panel) -> None:
    upload_id = await _upload(panel)
    rival = panel.rival.client
    base = f"/panel/campaigns/upload/{upload_id}"
    assert (await panel.get(base, client=rival)).status_code == 404
    assert (await panel.post(base, _form(title="RIVAL"), client=rival)).status_code == 404
    assert (await panel.post(f"{base}/counter", _form(), client=rival)).status_code == 404
    assert (await panel.get(f"{base}/rejects.csv?title=RIVAL", client=rival)).status_code == 404
    started = await panel.post(f"{base}/start", _form(title="RIVAL"), client=rival)
    assert started.status_code == 404 and await _messages(panel) == 0

    campaign_id = await _start(panel, upload_id)
    for path in (f"/panel/campaigns/{campaign_id}", f"/panel/campaigns/{campaign_id}/cancel"):
        assert (await panel.get(path, client=rival)).status_code == 404
    cancelled = await panel.post(f"/panel/campaigns/{campaign_id}/cancel", client=rival)
    assert cancelled.status_code == 404
    assert (
        f'data-campaign-id="{campaign_id}"'
        not in (await panel.get("/panel/campaigns", client=rival)).text
    )
    assert await _credits(panel) == 98
    assert (await panel.get("/panel/campaigns/999999")).status_code == 404


async def test_the_pages_read_in_turkish(panel: Panel) -> None:
    page = (await panel.get("/panel/campaigns")).text
    assert "Excel'den SMS" in html.unescape(page) and "Henüz kampanya yok." in page
    upload_id = await _upload(panel)
    page = (await panel.post(f"/panel/campaigns/upload/{upload_id}", _form())).text
    assert "Kampanyayı başlat" in page and "Gönderilmeyecek satırlar" in page
