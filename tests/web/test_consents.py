"""The İYS consents page: what it says before İYS is set up, a record added by hand or refused
by İYS's rules, a file imported with each refused row named, searching by number, paging
with the filters kept, and one account never seeing another's records."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from campaigns.workbooks import xlsx
from ileti.compliance.consents import IysChange
from ileti.web.i18n import ISTANBUL, catalogue
from ileti.web.routes.consents import PROBLEMS
from support.panel import Panel

pytestmark = pytest.mark.usefixtures("english")

NUMBER = "905325551234"
OTHER = "905335551234"


async def _set_up(panel: Panel, account: str = "acme") -> None:
    await panel.services.consents.configure(
        account,
        IysChange(
            url="http://127.0.0.1:9",
            iys_code="123",
            brand_code="456",
            username="u",
            password="p",
            mode="enforce",
        ),
    )


def _form(**given: str) -> dict[str, str]:
    form = {
        "number": "0532 555 12 34",
        "recipient_type": "BIREYSEL",
        "status": "ONAY",
        "source": "HS_WEB",
        "date": "2024-03-15",
        "time": "14:30:00",
    }
    return {**form, **given}


def _text(page: str) -> str:
    """The page's words, tags dropped and spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _table(page: str, test_id: str) -> str:
    assert f'data-testid="{test_id}"' in page, page
    return _text(page.split(f'data-testid="{test_id}"')[1].split("</table>")[0])


async def _records(panel: Panel, account_id: int | None = None) -> list[tuple[str, str, str]]:
    found, _ = await panel.services.consents.page(account_id or panel.account_id, limit=1000)
    return [(s.record.recipient, s.record.status, s.origin) for s in found]


def test_every_problem_is_explained_in_turkish() -> None:
    assert [text for text in PROBLEMS.values() if text not in catalogue()] == []


async def test_without_iys_the_page_explains_it_and_keeps_nothing(panel: Panel) -> None:
    page = await panel.get("/panel/consents")
    assert page.status_code == 200
    assert 'data-testid="iys-not-set-up"' in page.text
    assert "İYS is not set up for your account yet." in page.text
    assert 'action="/panel/consents/add"' not in page.text
    assert 'href="/panel/consents" aria-current="page"' in page.text

    refused = await panel.post("/panel/consents/add", _form())
    assert refused.status_code == 400
    assert "İYS is not set up for your account yet." in refused.text


async def test_the_page_shows_the_connection_and_its_counts(panel: Panel) -> None:
    await _set_up(panel)
    page = await panel.get("/panel/consents")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Brand code 456" in text and "İYS code 123" in text
    assert "only to numbers whose record in force is ONAY" in text
    assert "Last sent to İYS — Last read from İYS —" in text
    assert "No records yet" in text
    assert 'data-state="pending">0<' in page.text


async def test_a_record_added_is_listed_waiting_for_iys(panel: Panel) -> None:
    await _set_up(panel)
    added = await panel.post("/panel/consents/add", _form())
    assert added.status_code == 303, added.text
    page = await panel.get(added.headers["location"])
    assert f"The record for +{NUMBER} was kept; it waits to be sent to İYS." in page.text
    row = _table(page.text, "consents")
    # The date as given, Istanbul time; the record in force, from the panel, not yet in İYS.
    assert f"+{NUMBER} MESAJ BIREYSEL ONAY in force HS_WEB 2024-03-15 14:30:00 panel" in row
    assert "waiting for İYS" in row
    assert 'data-state="pending">1<' in page.text
    assert await _records(panel) == [(NUMBER, "ONAY", "panel")]

    # A member may withdraw it; the newest record comes first and is the one in force.
    withdrawn = await panel.post(
        "/panel/consents/add",
        _form(status="RET", source="HS_CAGRI_MERKEZI", date="2024-04-01", time="09:00"),
        client=panel.member.client,
    )
    assert withdrawn.status_code == 303
    assert await _records(panel) == [(NUMBER, "RET", "panel"), (NUMBER, "ONAY", "panel")]
    found = await panel.services.consents.status(panel.account_id, NUMBER)
    assert found is not None and found.record.status == "RET"


async def test_a_refused_record_says_why_and_adds_nothing(panel: Panel) -> None:
    await _set_up(panel)
    refused = await panel.post("/panel/consents/add", _form(status="RET"))
    assert refused.status_code == 400
    assert (
        "A number&#39;s first record cannot be RET: there is no consent to withdraw yet. (H109)"
        in refused.text
    )
    # The form keeps what was typed.
    assert 'value="0532 555 12 34"' in refused.text
    assert '<option value="RET" selected>' in refused.text
    assert await _records(panel) == []

    future = (panel.clock.now() + timedelta(days=1)).astimezone(ISTANBUL)
    later = await panel.post("/panel/consents/add", _form(date=future.strftime("%Y-%m-%d")))
    assert later.status_code == 400 and "The consent date is in the future. (H108)" in later.text
    no_source = await panel.post("/panel/consents/add", _form(source=""))
    assert no_source.status_code == 400
    assert "The source is required for BIREYSEL. (H113)" in no_source.text
    assert await _records(panel) == []

    # In Turkish (the member reads the panel in it), in Turkish.
    turkish = await panel.post(
        "/panel/consents/add", _form(status="RET"), client=panel.member.client
    )
    assert turkish.status_code == 400
    assert "Bir numaranın ilk kaydı RET olamaz" in turkish.text


async def test_a_file_is_imported_and_each_refused_row_named(panel: Panel) -> None:
    await _set_up(panel)
    csv = (
        "Telefon;Durum;Kaynak;İzin Tarihi\n"
        "0532 555 12 34;ONAY;HS_WEB;15.03.2024 14:30\n"
        "0533 555 12 34;RET;HS_WEB;15.03.2024 14:30\n"
        "12345;ONAY;HS_WEB;15.03.2024 14:30\n"
        "0532 555 12 34;RET;HS_MESAJ;2024-04-01\n"
        "0532 555 12 34;RET;HS_MESAJ;2024-04-02\n"
    ).encode()
    answer = await panel.post(
        "/panel/consents/import", files={"file": ("izinler.csv", csv, "text/csv")}
    )
    assert answer.status_code == 200, answer.text
    assert "izinler.csv: 5 rows · Kept: 2 · Refused: 3" in _text(answer.text)
    refused = _table(answer.text, "refused-rows")
    assert "3 0533 555 12 34 H109 A number's first record cannot be RET" in refused
    assert "4 12345 H101 The number is not a Turkish mobile number." in refused
    assert "6 0532 555 12 34 H110 The number's record in force has this status already." in refused
    assert await _records(panel) == [(NUMBER, "RET", "file"), (NUMBER, "ONAY", "file")]
    assert 'data-state="pending">2<' in answer.text


async def test_a_workbook_sheet_is_imported(panel: Panel) -> None:
    await _set_up(panel)
    book = xlsx(
        ("Notes", [["nothing here"]]),
        ("Consents", [["GSM", "Alıcı Tipi", "Kaynak"], ["05325551234", "TACIR", ""]]),
    )
    answer = await panel.post(
        "/panel/consents/import",
        {"sheet": "Consents"},
        files={"file": ("izinler.xlsx", book, "application/octet-stream")},
    )
    assert answer.status_code == 200, answer.text
    assert "izinler.xlsx: 1 rows · Kept: 1 · Refused: 0" in _text(answer.text)
    found = await panel.services.consents.status(panel.account_id, NUMBER, "TACIR")
    assert found is not None and found.record.source is None and found.origin == "file"


async def test_a_file_that_cannot_be_read_changes_nothing(panel: Panel) -> None:
    await _set_up(panel)
    wrong = await panel.post(
        "/panel/consents/import", files={"file": ("izinler.pdf", b"%PDF-1.4", "application/pdf")}
    )
    assert wrong.status_code == 400
    assert "“izinler.pdf” cannot be read: upload a file of one of these types" in wrong.text
    no_numbers = await panel.post(
        "/panel/consents/import", files={"file": ("a.csv", b"Ad;Soyad\nAli;Veli\n", "text/csv")}
    )
    assert no_numbers.status_code == 400 and "No column holds phone numbers" in no_numbers.text
    empty = await panel.post("/panel/consents/import", files={"file": ("a.csv", b"", "text/csv")})
    assert empty.status_code == 400 and "The file has no rows." in empty.text
    none = await panel.post("/panel/consents/import", {"sheet": ""})
    assert none.status_code == 400 and "Choose a file to upload." in none.text
    assert await _records(panel) == []


async def test_a_file_larger_than_one_call_is_added_in_chunks(panel: Panel) -> None:
    await _set_up(panel)
    numbers = [f"90532{n:07d}" for n in range(5_002)]
    lines = ["telefon;kaynak;tarih", *(f"{n};HS_WEB;2024-03-15" for n in numbers)]
    # The last row (the file's 5,004th line) repeats the one before it: refused, by its row.
    lines.append(f"{numbers[-1]};HS_WEB;2024-03-16")
    answer = await panel.post(
        "/panel/consents/import",
        files={"file": ("big.csv", "\n".join(lines).encode(), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "big.csv: 5,003 rows · Kept: 5,002 · Refused: 1" in _text(answer.text)
    assert "5004 905320005001 H110" in _table(answer.text, "refused-rows")


async def test_a_number_is_searched_with_its_records_in_force(panel: Panel) -> None:
    await _set_up(panel)
    for form in (
        _form(),
        _form(number=OTHER),
        _form(recipient_type="TACIR", status="ONAY", date="2024-03-16"),
        _form(recipient_type="TACIR", status="RET", date="2024-03-17"),
    ):
        assert (await panel.post("/panel/consents/add", form)).status_code == 303

    page = await panel.get("/panel/consents?number=0532+555+12+34")
    assert page.status_code == 200
    in_force = page.text.split('data-testid="in-force"')[1].split("</section>")[0]
    bireysel, tacir = in_force.split('data-recipient-type="TACIR"')
    assert "ONAY" in bireysel and "2024-03-15 14:30:00" in bireysel
    assert "RET" in tacir and "2024-03-17 14:30:00" in tacir
    rows = _table(page.text, "consents")
    assert rows.count(f"+{NUMBER}") == 3 and OTHER not in rows

    # The filters narrow the list; a number without records has none in force.
    withdrawn = _table(await _get_text(panel, "?number=05325551234&status=RET"), "consents")
    assert withdrawn.count(f"+{NUMBER}") == 1 and "TACIR RET" in withdrawn
    current = _table(await _get_text(panel, "?recipient_type=TACIR&in_force=1"), "consents")
    assert current.count("+90") == 1 and "TACIR RET in force" in current
    unknown = await panel.get("/panel/consents?number=05445551234")
    assert "no record: commercial messages may not go to it" in unknown.text
    assert "No record matches this search." in unknown.text

    bad = await panel.get("/panel/consents?number=12345")
    assert bad.status_code == 400 and "The number is not a Turkish mobile number." in bad.text
    assert 'data-testid="in-force"' not in bad.text
    odd = await panel.get("/panel/consents?sync_state=lost")
    assert odd.status_code == 400 and "is one of pending, synced, failed, pulled" in odd.text


async def _get_text(panel: Panel, query: str) -> str:
    answer = await panel.get(f"/panel/consents{query}")
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_pages_go_back_in_time_with_the_filters_kept(panel: Panel) -> None:
    await _set_up(panel)
    items = [
        {
            "recipient": f"90532{n:07d}",
            "recipient_type": "BIREYSEL",
            "type": "MESAJ",
            "status": "ONAY",
            "source": "HS_WEB",
            "consent_date": "2024-03-15 10:00:00",
        }
        for n in range(105)
    ]
    await panel.services.consents.add(panel.account_id, items, "api")
    first = await panel.get("/panel/consents?status=ONAY")
    assert _table(first.text, "consents").count("+90532") == 100
    older = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert older, first.text
    link = html.unescape(older.group(1))
    assert link.startswith("/panel/consents?status=ONAY&before=")
    second = await panel.get(link)
    # The oldest five, newest first.
    shown = re.findall(r"\+90532\d{7}", _table(second.text, "consents"))
    assert shown == [f"+90532{n:07d}" for n in (4, 3, 2, 1, 0)]
    assert 'rel="next"' not in second.text and 'href="/panel/consents?status=ONAY">' in second.text


async def test_another_accounts_records_never_show(panel: Panel) -> None:
    await _set_up(panel)
    assert (await panel.post("/panel/consents/add", _form())).status_code == 303
    # Rival without İYS: the explanation, nothing of acme's.
    rival = await panel.get("/panel/consents", client=panel.rival.client)
    assert 'data-testid="iys-not-set-up"' in rival.text and NUMBER not in rival.text

    await _set_up(panel, "rival")
    listing = await panel.get("/panel/consents", client=panel.rival.client)
    assert "No records yet" in listing.text and NUMBER not in listing.text
    searched = await panel.get(f"/panel/consents?number={NUMBER}", client=panel.rival.client)
    assert "no record: commercial messages may not go to it" in searched.text
    assert "No record matches this search." in searched.text
    assert 'data-state="pending">0<' in searched.text

    # Rival's own record for the same number is its own; acme's stays acme's.
    assert (
        await panel.post("/panel/consents/add", _form(), client=panel.rival.client)
    ).status_code == 303
    assert await _records(panel, panel.rival_account_id) == [(NUMBER, "ONAY", "panel")]
    assert await _records(panel) == [(NUMBER, "ONAY", "panel")]
    rows = _table((await panel.get("/panel/consents")).text, "consents")
    assert rows.count(f"+{NUMBER}") == 1
