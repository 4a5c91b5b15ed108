"""The gateway's consent records and a real İYS (the simulator, over HTTP) kept in step: pushes,
refusals, an İYS that is down, citizens' changes pulled, a RET reply pushed at once; on SQLite
and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ileti.compliance.consents import IysChange
from ileti.domain.consent import iys_date
from ileti.iys.simulator import IysSimulator
from ileti.iys.sync import IysSync
from ileti.store import opt_out
from ileti.store.db import Database
from iys.conftest import StartIys
from iys.records import BRAND_CODE, IYS_CODE
from support.api import Api, acme_api

ONE, TWO, THREE = "905321234567", "905321234568", "905321234569"
_SENDS = itertools.count()


@pytest.fixture
async def gateway(db: Database, iys: IysSimulator) -> AsyncIterator[Api]:
    """Account ``acme`` with its İYS access pointing at the simulator, in enforce mode."""
    async with acme_api(db) as api:
        await api.services.consents.configure(
            "acme",
            IysChange(
                url=iys.url,
                iys_code=IYS_CODE,
                brand_code=BRAND_CODE,
                username="brand",
                password="secret",
                mode="enforce",
            ),
        )
        yield api


def _sync(api: Api) -> IysSync:
    return IysSync(api.db, api.services.keyring, clock=api.clock, attempts=2)


def _record(api: Api, number: str, status: str = "ONAY", minutes: float = 60) -> dict[str, Any]:
    return {
        "recipient": number,
        "status": status,
        "source": "HS_WEB",
        "consent_date": iys_date(api.clock.now() - timedelta(minutes=minutes)),
    }


async def _add(api: Api, *records: dict[str, Any]) -> None:
    outcome = await api.services.consents.add(api.account_id, list(records), "api")
    assert outcome.rejected == [], outcome.rejected


async def _state(api: Api, number: str) -> tuple[str, str, str | None, str | None]:
    found = await api.services.consents.status(api.account_id, number)
    assert found is not None
    return (found.record.status, found.sync_state, found.transaction_id, found.sync_error)


async def _advertise(api: Api, number: str) -> str:
    reply = await api.post(
        "/sms/send",
        {
            "api_key": api.key,
            "title": "ACME",
            "text": f"Kampanya {next(_SENDS)}",
            "sentto": number,
            "content_type": 2,
        },
    )
    return str(reply.json()["result_code"])


async def test_records_added_here_reach_iys_with_its_transaction_ids(
    gateway: Api, iys: IysSimulator
) -> None:
    await _add(gateway, _record(gateway, ONE), _record(gateway, TWO))
    [report] = await _sync(gateway).round()
    assert (report.pushed, report.synced, report.failed, report.error) == (2, 2, 0, None)
    for number in (ONE, TWO):
        status, state, transaction_id, _ = await _state(gateway, number)
        assert (status, state) == ("ONAY", "synced")
        assert transaction_id
        kept = iys.latest(IYS_CODE, BRAND_CODE, number)
        assert kept is not None and kept.status == "ONAY"
    # Nothing left to push: the next round sends nothing.
    [again] = await _sync(gateway).round()
    assert again.pushed == 0


async def test_many_records_go_as_an_asynchronous_batch(gateway: Api, iys: IysSimulator) -> None:
    numbers = [f"90532200{n:04d}" for n in range(45)]
    await _add(gateway, *(_record(gateway, n) for n in numbers))
    [report] = await _sync(gateway).round()
    assert (report.pushed, report.synced) == (45, 45)
    assert iys.requests[f"/sps/{IYS_CODE}/brands/{BRAND_CODE}/consents/request"] >= 1
    assert all(iys.latest(IYS_CODE, BRAND_CODE, n) is not None for n in numbers)


async def _iys_token(client: httpx.AsyncClient) -> dict[str, str]:
    token = await client.post(
        "/oauth2/token", json={"username": "u", "password": "p", "grant_type": "password"}
    )
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_a_record_iys_refuses_is_marked_with_its_code(
    gateway: Api, iys: IysSimulator
) -> None:
    async with httpx.AsyncClient(base_url=iys.url) as client:
        # İYS has an ONAY for THREE already (through another provider), and a later RET for
        # TWO than the gateway's ONAY.
        for number, status, days in ((THREE, "ONAY", 2), (TWO, "ONAY", 3), (TWO, "RET", 0)):
            added = await client.post(
                f"/sps/{IYS_CODE}/brands/{BRAND_CODE}/consents",
                json={
                    "recipient": f"+{number}",
                    "recipientType": "BIREYSEL",
                    "type": "MESAJ",
                    "status": status,
                    "source": "HS_FIZIKSEL_ORTAM",
                    "consentDate": iys_date(gateway.clock.now() - timedelta(days=days, minutes=30)),
                },
                headers=await _iys_token(client),
            )
            assert added.status_code == 200, added.text
    await _add(gateway, _record(gateway, THREE), _record(gateway, TWO, minutes=24 * 60 + 60))
    [report] = await _sync(gateway).round()
    assert (report.synced, report.failed) == (1, 1)
    # İYS already says ONAY for THREE: the two agree.
    status, state, _, note = await _state(gateway, THREE)
    assert (status, state) == ("ONAY", "synced")
    assert note is not None and "H110" in note
    # The ONAY for TWO is older than İYS's RET: refused, with İYS's code.
    status, state, transaction_id, error = await _state(gateway, TWO)
    assert (status, state, transaction_id) == ("ONAY", "failed", None)
    assert error is not None and error.startswith("H111")


async def test_an_iys_that_is_down_leaves_records_waiting_and_sending_goes_on(
    gateway: Api, iys: IysSimulator
) -> None:
    await _add(gateway, _record(gateway, ONE))
    iys.fail_next(1_000, status=503)
    [report] = await _sync(gateway).round()
    assert report.waiting == 1 and report.error is not None
    status, state, _, error = await _state(gateway, ONE)
    assert (status, state) == ("ONAY", "pending")
    assert error is not None and "503" in error
    view = await gateway.services.consents.settings(gateway.account_id)
    assert view is not None and view.last_error is not None
    # The local records decide meanwhile.
    assert await _advertise(gateway, ONE) == "TS-1024"
    assert await _advertise(gateway, TWO) == "TS-1052"
    # Tried again only after its backoff, then taken.
    iys.fail_next(0)
    [early] = await _sync(gateway).round()
    assert early.pushed == 0
    gateway.clock.advance(61)
    [later] = await _sync(gateway).round()
    assert (later.pushed, later.synced) == (1, 1)
    view = await gateway.services.consents.settings(gateway.account_id)
    assert view is not None and view.last_error is None


async def test_a_citizens_ret_in_iys_stops_advertising_from_the_next_request(
    gateway: Api, iys: IysSimulator
) -> None:
    await _add(gateway, _record(gateway, ONE, minutes=120))
    await _sync(gateway).round()
    assert await _advertise(gateway, ONE) == "TS-1024"
    async with httpx.AsyncClient(base_url=iys.url) as client:
        change = await client.post(
            f"/admin/changes/{IYS_CODE}/{BRAND_CODE}",
            json={
                "recipient": f"+{ONE}",
                "recipientType": "BIREYSEL",
                "type": "MESAJ",
                "status": "RET",
                "source": "IYS_WEB",
                "consentDate": iys_date(gateway.clock.now() - timedelta(minutes=5)),
            },
        )
        assert change.status_code == 200, change.text
    [report] = await _sync(gateway).round()
    assert report.pulled == 1
    found = await gateway.services.consents.status(gateway.account_id, ONE)
    assert found is not None
    assert (found.record.status, found.record.source, found.origin, found.sync_state) == (
        "RET",
        "IYS_WEB",
        "iys",
        "pulled",
    )
    assert await _advertise(gateway, ONE) == "TS-1052"
    # The cursor moved: the change is not applied twice.
    [again] = await _sync(gateway).round()
    assert again.pulled == 0


async def test_a_ret_reply_becomes_a_ret_in_iys_at_once(gateway: Api, iys: IysSimulator) -> None:
    await _add(gateway, _record(gateway, ONE))
    await _sync(gateway).round()
    async with gateway.db.write() as conn:
        await opt_out.record_opt_out(conn, ONE, "ACME", gateway.clock.now())
    found = await gateway.services.consents.status(gateway.account_id, ONE)
    assert found is not None
    assert (found.record.status, found.record.source, found.origin, found.sync_state) == (
        "RET",
        "HS_MESAJ",
        "sms",
        "pending",
    )
    assert await _advertise(gateway, ONE) in ("TS-1044", "TS-1052")
    [report] = await _sync(gateway).round()
    assert report.synced == 1
    kept = iys.latest(IYS_CODE, BRAND_CODE, ONE)
    assert kept is not None and kept.status == "RET"


async def test_wrong_credentials_are_reported_and_nothing_is_lost(
    db: Database, start_iys: StartIys
) -> None:
    iys = await start_iys(username="brand", password="right")
    async with acme_api(db) as api:
        await api.services.consents.configure(
            "acme",
            IysChange(
                url=iys.url,
                iys_code=IYS_CODE,
                brand_code=BRAND_CODE,
                username="brand",
                password="wrong",
                mode="enforce",
            ),
        )
        await _add(api, _record(api, ONE))
        [report] = await _sync(api).round()
        assert report.error is not None
        assert "wrong" not in report.error  # never the password
        assert (await _state(api, ONE))[1] == "pending"
        await api.services.consents.configure("acme", IysChange(password="right"))
        api.clock.advance(3_600)
        [fixed] = await _sync(api).round()
        assert fixed.synced == 1
