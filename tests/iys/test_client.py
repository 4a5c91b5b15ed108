"""The İYS client against a real simulator on a socket: tokens, records, batches, the latest
record, the changes feed, and what it does when İYS fails or refuses."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import structlog

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.consent import Consent, iys_date
from ileti.iys import (
    IysAccess,
    IysAuthError,
    IysClient,
    IysError,
    IysRejected,
    IysUnavailable,
)
from ileti.iys.simulator import IysSimulator
from iys.records import BRAND_CODE, CONSENTS, IYS_CODE, RECIPIENT, consent, minutes_ago, record
from support.clock import ManualClock
from support.receiver import Receiver

if TYPE_CHECKING:
    from iys.conftest import StartIys

PASSWORD = "correct horse battery staple"
MakeClient = Callable[..., IysClient]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    made: list[IysClient] = []

    def make(
        url: str, password: str = PASSWORD, clock: Clock = SYSTEM_CLOCK, **options: Any
    ) -> IysClient:
        access = IysAccess(url, IYS_CODE, BRAND_CODE, "ileti", password)
        client = IysClient(access, clock=clock, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def citizen_change(iys: IysSimulator, **fields: Any) -> None:
    async with httpx.AsyncClient(base_url=iys.url) as http:
        answer = await http.post(
            f"/admin/changes/{IYS_CODE}/{BRAND_CODE}",
            json=record(**{"source": "IYS_WEB", **fields}),
        )
        assert answer.status_code == 200, answer.text


# Tokens


async def test_a_token_is_taken_when_first_needed_and_then_reused(
    iys: IysSimulator, make_client: MakeClient
):
    client = make_client(iys.url)
    assert iys.requests["/oauth2/token"] == 0
    await client.add(consent(minutes=50))
    await client.add(consent(status="RET", minutes=40))
    assert await client.status(RECIPIENT, "BIREYSEL") is not None
    assert iys.grants == {"password": 1}


async def test_a_token_is_refreshed_before_it_runs_out(
    start_iys: StartIys, make_client: MakeClient
):
    clock = ManualClock()
    iys = await start_iys(clock=clock, access_ttl=100, refresh_ttl=1000)
    client = make_client(iys.url, clock=clock)
    await client.add(consent(minutes=50))
    clock.advance(95)  # still valid for five seconds: renewed now rather than refused in flight
    await client.add(consent(status="RET", minutes=40))
    assert iys.grants == {"password": 1, "refresh_token": 1}
    assert iys.requests[CONSENTS] == 2


async def test_a_refused_refresh_falls_back_to_the_password(
    start_iys: StartIys, make_client: MakeClient
):
    # İYS forgot every token (its clock ran on) while the client's are, by its own, still good.
    iys_clock, client_clock = ManualClock(), ManualClock()
    iys = await start_iys(clock=iys_clock, access_ttl=100, refresh_ttl=1000)
    client = make_client(iys.url, clock=client_clock)
    await client.add(consent(minutes=50))
    iys_clock.advance(2000)
    client_clock.advance(95)
    await client.add(consent(status="RET", minutes=40))
    assert iys.grants == {"password": 2}
    assert iys.requests["/oauth2/token"] == 3


async def test_a_call_refused_for_its_token_authenticates_again_once(
    start_iys: StartIys, make_client: MakeClient
):
    iys_clock = ManualClock()
    iys = await start_iys(clock=iys_clock, access_ttl=100)
    client = make_client(iys.url, clock=ManualClock())
    await client.add(consent(minutes=50))
    iys_clock.advance(150)
    await client.add(consent(status="RET", minutes=40))
    assert iys.grants == {"password": 2}
    assert iys.requests[CONSENTS] == 3
    kept = iys.latest(IYS_CODE, BRAND_CODE, RECIPIENT)
    assert kept is not None and kept.status == "RET"


async def test_a_wrong_password_is_an_auth_error_tried_once(
    start_iys: StartIys, make_client: MakeClient
):
    iys = await start_iys(username="ileti", password=PASSWORD)
    client = make_client(iys.url, password="wrong")
    with pytest.raises(IysAuthError) as refused:
        await client.add(consent())
    assert "wrong" not in str(refused.value)
    assert iys.requests["/oauth2/token"] == 1
    assert iys.requests[CONSENTS] == 0


# Records


async def test_an_added_record_is_kept_and_a_refused_one_says_why(
    iys: IysSimulator, make_client: MakeClient
):
    client = make_client(iys.url)
    added = await client.add(consent())
    assert added.transaction_id and added.creation_date[:10] == iys_date(minutes_ago(0))[:10]
    with pytest.raises(IysRejected) as refused:
        await client.add(consent(minutes=30))
    assert [(e.code, e.location) for e in refused.value.errors] == [("H110", "status")]
    with pytest.raises(IysRejected) as refused:
        await client.add(consent(recipient="905329876543", status="RET"))
    assert [e.code for e in refused.value.errors] == ["H109"]
    assert [kept.status for kept in iys.history(IYS_CODE, BRAND_CODE, RECIPIENT)] == ["ONAY"]


async def test_add_all_sends_a_thousand_a_request_and_waits_for_every_outcome(
    iys: IysSimulator, make_client: MakeClient
):
    client = make_client(iys.url)
    records = [consent(recipient=f"9053210{i:05d}") for i in range(2300)]
    records[1500] = consent(recipient="9053210" + "00007", status="RET", minutes=30)
    records[2299] = Consent(RECIPIENT, "TACIR", "MESAJ", "ONAY", None, None)
    outcomes = await client.add_all(records, poll_seconds=0.05)
    assert [item.index for item in outcomes] == list(range(2300))
    failed = [item for item in outcomes if item.status != "success"]
    assert [(item.index, [e.code for e in item.errors]) for item in failed] == []
    assert iys.requests[f"{CONSENTS}/request"] == 3
    assert len({item.transaction_id for item in outcomes}) == 2300
    withdrawn = iys.latest(IYS_CODE, BRAND_CODE, "905321000007")
    assert withdrawn is not None and withdrawn.status == "RET"


async def test_add_all_reports_each_failure_at_its_index(
    iys: IysSimulator, make_client: MakeClient
):
    client = make_client(iys.url)
    records = [consent(), consent(recipient="905329876543", status="RET"), consent(minutes=30)]
    outcomes = await client.add_all(records, poll_seconds=0.05)
    assert [(item.status, [e.code for e in item.errors]) for item in outcomes] == [
        ("success", []),
        ("failure", ["H109"]),
        ("failure", ["H110"]),
    ]


async def test_add_all_gives_up_waiting_after_max_wait(
    start_iys: StartIys, make_client: MakeClient
):
    iys = await start_iys(batch_delay=30)
    client = make_client(iys.url)
    outcomes = await client.add_all([consent()], poll_seconds=0.05, max_wait=0.3)
    assert [(item.index, item.status) for item in outcomes] == [(0, "enqueue")]
    assert iys.requests[f"{CONSENTS}/request"] == 1
    polls = sum(
        times for path, times in iys.requests.items() if path.startswith(f"{CONSENTS}/request/")
    )
    assert 2 <= polls <= 10


async def test_status_reads_the_latest_record_of_either_side(
    iys: IysSimulator, make_client: MakeClient
):
    client = make_client(iys.url)
    assert await client.status(RECIPIENT, "BIREYSEL") is None
    added = await client.add(consent(minutes=50))
    latest = await client.status(RECIPIENT, "BIREYSEL")
    assert latest is not None
    assert (latest.consent, latest.transaction_id) == (consent(minutes=50), added.transaction_id)

    await citizen_change(
        iys, status="RET", source="IYS_MOBIL", consentDate=iys_date(minutes_ago(5))
    )
    latest = await client.status(RECIPIENT, "BIREYSEL")
    assert latest is not None
    assert (latest.consent.status, latest.consent.source) == ("RET", "IYS_MOBIL")
    assert await client.status(RECIPIENT, "BIREYSEL", "ARAMA") is None


async def test_changes_are_paged_by_the_cursor(iys: IysSimulator, make_client: MakeClient):
    client = make_client(iys.url)
    await client.add(consent())  # the brand's own: not a change
    recipients = [f"90532000000{i}" for i in range(5)]
    for recipient in recipients:
        await citizen_change(iys, recipient=f"+{recipient}")

    seen, after, pages = [], None, 0
    while (page := await client.changes(after, limit=2)).changes:
        seen += [change.consent.recipient for change in page.changes]
        assert all(change.consent.source == "IYS_WEB" for change in page.changes)
        after, pages = page.after, pages + 1
    assert (seen, pages, page.after) == (recipients, 3, after)

    await citizen_change(
        iys, recipient=f"+{recipients[2]}", status="RET", consentDate=iys_date(minutes_ago(1))
    )
    page = await client.changes(after)
    assert [(c.consent.recipient, c.consent.status) for c in page.changes] == [
        (recipients[2], "RET")
    ]


# When İYS fails


async def test_503_and_429_are_tried_again_with_backoff_and_retry_after(
    iys: IysSimulator, make_client: MakeClient
):
    clock = ManualClock()
    client = make_client(iys.url, clock=clock)
    await client.add(consent(minutes=50))
    iys.fail_next(3, 503)
    await client.add(consent(status="RET", minutes=40))
    assert clock.slept == [0.5, 1.0, 2.0]
    iys.fail_next(1, 429, retry_after=7)
    await client.add(consent(minutes=30))
    assert clock.slept[3:] == [7.0]
    assert iys.requests[CONSENTS] == 1 + 4 + 2
    assert [kept.status for kept in iys.history(IYS_CODE, BRAND_CODE, RECIPIENT)] == [
        "ONAY",
        "RET",
        "ONAY",
    ]


async def test_unavailable_after_the_attempts_without_the_password_anywhere(
    iys: IysSimulator, make_client: MakeClient
):
    clock = ManualClock()
    client = make_client(iys.url, clock=clock, attempts=3, backoff=0.25)
    iys.fail_next(10, 502)
    with structlog.testing.capture_logs() as logs, pytest.raises(IysUnavailable) as failed:
        await client.add(consent())
    assert "502" in str(failed.value)
    assert clock.slept == [0.25, 0.5]
    assert iys.requests["/oauth2/token"] == 3
    assert len(logs) == 2
    assert PASSWORD not in repr(logs) + str(failed.value) + repr(client._access)


async def test_tokens_stay_out_of_the_logs(iys: IysSimulator, make_client: MakeClient):
    clock = ManualClock()
    client = make_client(iys.url, clock=clock)
    await client.add(consent(minutes=50))
    token = client._token
    assert token is not None
    iys.fail_next(1, 503)
    with structlog.testing.capture_logs() as logs:
        await client.add(consent(status="RET", minutes=40))
    assert logs and token.access not in repr(logs) and token.access not in repr(token)


async def test_a_server_nobody_runs_is_unavailable(make_client: MakeClient):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", clock=ManualClock(), attempts=2)
    with pytest.raises(IysUnavailable, match="ConnectError"):
        await client.status(RECIPIENT, "BIREYSEL")


async def test_an_answer_too_slow_is_unavailable(start_iys: StartIys, make_client: MakeClient):
    iys = await start_iys(delay=1.0)
    async with httpx.AsyncClient(timeout=0.1) as http:
        client = make_client(iys.url, clock=ManualClock(), attempts=2, http=http)
        with pytest.raises(IysUnavailable, match="ReadTimeout"):
            await client.add(consent())
    assert iys.requests["/oauth2/token"] == 2


async def test_other_refusals_are_errors_not_tried_again(
    iys: IysSimulator, make_client: MakeClient
):
    client = make_client(iys.url, clock=ManualClock())
    with pytest.raises(IysError, match="404") as failed:
        await client.outcome("no-such-request")
    assert not isinstance(failed.value, IysUnavailable)
    iys.fail_next(1, 403)
    with pytest.raises(IysError, match="403"):
        await client.status(RECIPIENT, "BIREYSEL")
    assert iys.requests[f"{CONSENTS}/status"] == 1


async def test_an_answer_that_is_not_iys_json_is_an_error(make_client: MakeClient):
    with Receiver() as receiver:
        client = make_client(f"http://127.0.0.1:{receiver.port}", clock=ManualClock())
        with pytest.raises(IysError, match="not JSON"):
            await client.add(consent())
