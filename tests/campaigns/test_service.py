"""The campaign service as any door calls it: an xlsx previewed and started, on both
databases."""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from campaigns.workbooks import xlsx
from ileti.campaigns.service import FileUpload, Options
from ileti.codes import GatewayError
from ileti.domain.clock import utcnow
from ileti.domain.pricing import Balance
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import GroupSend
from ileti.store import accounts
from ileti.store.db import Database
from ileti.store.models import ApiKey
from support.api import Api, acme_api


@dataclass(frozen=True)
class Caller:
    account_id: int
    key_id: int


BOOK = xlsx(
    ("Notlar", [("Bu sayfa boş değil ama telefon yok",)]),
    (
        "Müşteriler",
        [
            ("İsim", "GSM", "Tutar"),
            ("Işıl", 905321234567, 250.5),
            ("Ömer", 5.32123e9, 10),  # lost digits in Excel
            ("Şule", "0533 123 45 67", None),
        ],
    ),
)
OPTIONS = Options(text="Sayın {isim}, {tutar|0} TL.", title="ACME", sheet="Müşteriler")


async def _caller(api: Api) -> Caller:
    async with api.db.read() as conn:
        key_id = (
            await conn.execute(select(ApiKey.id).where(ApiKey.account_id == api.account_id))
        ).scalar_one()
    return Caller(api.account_id, key_id)


async def _credits(api: Api) -> int:
    async with api.db.read() as conn:
        return (await accounts.balances(conn, api.account_id))[0]


async def test_an_xlsx_sheet_is_previewed_with_its_damaged_cells_and_costs_nothing(
    db: Database,
) -> None:
    async with acme_api(db) as api:
        campaigns = api.services.campaigns
        preview = await campaigns.preview(await _caller(api), FileUpload("m.xlsx", BOOK), OPTIONS)
        assert (preview.sheet, preview.sheets) == ("Müşteriler", ["Notlar", "Müşteriler"])
        assert (preview.phone_column, preview.rows, preview.valid) == ("GSM", 3, 2)
        assert [(s.line, s.text) for s in preview.samples] == [
            (2, "Sayın Işıl, 250.5 TL."),
            (4, "Sayın Şule, 0 TL."),
        ]
        assert [(r.line, r.result.code) for r in preview.rejects] == [(3, "TS-1034")]
        assert preview.credits == 2 and preview.balance == 100
        assert await _credits(api) == 100


async def test_a_start_of_the_same_upload_answers_the_first(db: Database) -> None:
    async with acme_api(db) as api:
        campaigns, caller = api.services.campaigns, await _caller(api)
        upload_id = await campaigns.upload(caller, FileUpload("m.xlsx", BOOK))
        first = await campaigns.start(caller, upload_id, OPTIONS, name="Ocak")
        again = await campaigns.start(caller, upload_id, OPTIONS, name="Ocak")
        assert again.campaign_id == first.campaign_id
        assert await _credits(api) == 98
        view = await campaigns.status(caller, first.campaign_id)
        assert (view.name, view.file_name, view.accepted) == ("Ocak", "m.xlsx", 2)
        # Other options are another campaign.
        other = await campaigns.start(caller, upload_id, OPTIONS, name="Şubat")
        assert other.campaign_id != first.campaign_id
        listed, _ = await campaigns.list(caller)
        assert [c.name for c in listed] == ["Şubat", "Ocak"]


async def test_an_upload_expires_after_its_day(db: Database) -> None:
    async with acme_api(db) as api:
        campaigns, caller = api.services.campaigns, await _caller(api)
        upload_id = await campaigns.upload(caller, FileUpload("m.xlsx", BOOK))
        api.clock.advance(24 * 3600 + 1)
        with pytest.raises(GatewayError) as refused:
            await campaigns.start(caller, upload_id, OPTIONS)
        assert refused.value.result.code == "TS-1039"
        assert await _credits(api) == 100


async def test_a_group_takes_more_recipients_only_when_its_door_allows(db: Database) -> None:
    async with acme_api(db) as api:
        send = GroupSend(title="ACME", numbers=["05321234567", "05331234567"], text="Merhaba")
        identity = RequestIdentity.of("test", {"n": 1}, None)
        with pytest.raises(GatewayError) as refused:
            await api.services.sending.group(await _caller(api), send, identity, max_recipients=1)
        assert refused.value.result.code == "TS-1045"
        assert await _credits(api) == 100


async def test_a_large_file_is_previewed_and_started_in_a_few_hundred_bytes_a_row(
    sqlite_db: Database,
) -> None:
    """A million-row campaign has to fit in the server's memory beside everything else: its rows
    are held as columns of bytes, not as objects. This file's preview and start held 1,170 and
    920 bytes a row at their peaks when every row was objects; about 400 now, the most of it
    what is made once per file (the cells shared among rows, a table of the numbers seen)."""
    rows = 20_000
    data = "Ad;Telefon;Tutar\n" + "".join(
        f"Müşteri {i};90532{i:07d};{100 + i % 900}\n" for i in range(rows)
    )
    options = Options(text="Sayın {Ad}, {Tutar} TL borcunuz var.", title="ACME")
    async with acme_api(sqlite_db) as api:
        async with api.db.write() as conn:
            await accounts.topup(conn, api.account_id, Balance.MAIN, rows, utcnow())
        campaigns, caller = api.services.campaigns, await _caller(api)
        upload_id = await campaigns.upload(caller, FileUpload("musteriler.csv", data.encode()))
        tracemalloc.start()
        try:
            preview = await campaigns.preview(caller, upload_id, options)
            preview_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            started = await campaigns.start(caller, upload_id, options)
            start_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert (preview.valid, started.accepted.success_count) == (rows, rows)
    assert preview_peak < 600 * rows and start_peak < 600 * rows
