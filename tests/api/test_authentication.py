"""Every way a key can be wrong, and what the caller is told."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ileti.access import authenticator
from ileti.api.app import create_app
from ileti.domain.clock import utcnow
from ileti.domain.keys import PREFIX_LENGTH
from ileti.domain.permissions import Permission
from ileti.services import Services
from ileti.store import accounts, keys
from support.api import Api, api_settings, serving


def _code(response: httpx.Response) -> str:
    return response.json()["result_code"]


async def test_key_from_bearer_or_x_api_key_and_body_wins(api: Api) -> None:
    bearer = await api.client.post(
        "/balance", json={}, headers={"Authorization": f"Bearer {api.key}"}
    )
    header = await api.client.post("/balance", json={}, headers={"X-API-Key": api.key})
    assert _code(bearer) == _code(header) == "TS-1040"
    # The body wins over a header: a bad body key fails even with a good header.
    mixed = await api.client.post(
        "/balance", json={"api_key": "ilt_0000000000_nope"}, headers={"X-API-Key": api.key}
    )
    assert mixed.status_code == 401
    assert _code(mixed) == "TS-1031"


@pytest.mark.parametrize(
    "bad_key",
    ["", "x" * 1000, "ilt_çöğüşı__ünïcödé", "ilt_0123456789_" + "A" * 43, "Bearer", "🔑" * 10],
)
async def test_unknown_keys_are_ts_1031(api: Api, bad_key: str) -> None:
    response = await api.post("/auth/check", {"api_key": bad_key})
    assert response.status_code == 401
    assert response.json()["result"] is False
    assert _code(response) == "TS-1031"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_missing_key_is_ts_1031(api: Api) -> None:
    response = await api.post("/auth/check", {})
    assert response.status_code == 401
    assert _code(response) == "TS-1031"


async def test_another_keys_prefix_with_a_forged_secret_is_refused(api: Api) -> None:
    forged = api.key[:PREFIX_LENGTH] + "_" + "B" * 43
    response = await api.post("/balance", {"api_key": forged})
    assert _code(response) == "TS-1031"


async def test_revoked_key_stops_within_a_second(api: Api) -> None:
    assert _code(await api.post("/balance")) == "TS-1040"
    async with api.db.write() as conn:
        await keys.revoke_key(conn, api.key[:PREFIX_LENGTH], utcnow())
    api.clock.advance(1.05)
    response = await api.post("/balance")
    assert response.status_code == 401
    assert _code(response) == "TS-1031"


async def test_a_busy_keys_lapsed_cache_costs_one_query(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests that find the key's entry lapsed together share one lookup, not a connection
    each (which would overflow the pool under load)."""
    lookups: list[str] = []
    find_key = authenticator.find_key

    async def counted(conn: object, key: str) -> keys.KeyRecord:
        lookups.append(key)
        return await find_key(conn, key)  # type: ignore[arg-type]

    monkeypatch.setattr(authenticator, "find_key", counted)
    assert _code(await api.post("/auth/check")) == "TS-1000"
    api.clock.advance(1.05)  # the entry lapses
    responses = await asyncio.gather(*(api.post("/auth/check") for _ in range(50)))
    assert [_code(response) for response in responses] == ["TS-1000"] * 50
    assert len(lookups) == 2


async def test_api_disabled_is_ts_1061(api: Api) -> None:
    async with api.db.write() as conn:
        await keys.set_api_enabled(conn, api.key, False)
    response = await api.post("/auth/check")
    assert (response.status_code, _code(response)) == (403, "TS-1061")


async def test_missing_permission_is_ts_1065_but_auth_check_needs_none(api: Api) -> None:
    key = await api.new_key(deny={Permission.CHECK_BALANCE})
    refused = await api.post("/balance", {"api_key": key})
    assert (refused.status_code, _code(refused)) == (403, "TS-1065")
    checked = (await api.post("/auth/check", {"api_key": key})).json()
    assert checked["result_code"] == "TS-1000"
    assert checked["key_details"]["permissions"]["check_balance"] is False


async def test_an_empty_body_key_does_not_hide_a_header_key(api: Api) -> None:
    for headers in ({"Authorization": f"Bearer {api.key}"}, {"X-API-Key": api.key}):
        response = await api.post("/balance", {"api_key": ""}, headers=headers)
        assert _code(response) == "TS-1040"
    assert _code(await api.post("/balance", {"api_key": ""})) == "TS-1031"


async def test_caller_outside_allowlist_is_ts_1041(api: Api) -> None:
    outside = await api.new_key(allow_ips=["10.1.0.0/16"])
    inside = await api.new_key(allow_ips=["10.1.0.0/16", "127.0.0.0/8"])
    refused = await api.post("/balance", {"api_key": outside})
    assert (refused.status_code, _code(refused)) == (403, "TS-1041")
    # The caller learns which address the gateway saw, to put in the allowlist.
    assert "127.0.0.1" in refused.json()["result_message"]
    assert _code(await api.post("/balance", {"api_key": inside})) == "TS-1040"


async def test_inactive_account_is_ts_1030(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_account_status(conn, api.account_id, False)
    response = await api.post("/auth/check")
    assert (response.status_code, _code(response)) == (403, "TS-1030")


async def test_per_minute_limit_is_ts_1060_with_retry_after(api: Api) -> None:
    key = await api.new_key(per_minute=3)
    codes = [_code(await api.post("/auth/check", {"api_key": key})) for _ in range(3)]
    assert codes == ["TS-1000"] * 3
    limited = await api.post("/auth/check", {"api_key": key})
    assert (limited.status_code, _code(limited)) == (403, "TS-1060")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # The limit is per key: another key of the same account is untouched.
    assert _code(await api.post("/auth/check")) == "TS-1000"


async def test_per_minute_zero_lifts_the_limit(api: Api) -> None:
    key = await api.new_key(per_minute=0)
    async with serving(api.db, default_per_minute=2) as (client, _):
        unlimited = [
            _code(await client.post("/auth/check", json={"api_key": key})) for _ in range(5)
        ]
        default = [
            _code(await client.post("/auth/check", json={"api_key": api.key})) for _ in range(3)
        ]
    assert unlimited == ["TS-1000"] * 5
    assert default == ["TS-1000", "TS-1000", "TS-1060"]


async def _allowlisted_call(
    api: Api, forwarded_for: list[str], allow: str = "10.0.0.0/8", **settings: object
) -> httpx.Response:
    """/balance from 127.0.0.1 with a key allowlisted for ``allow``, carrying these
    X-Forwarded-For headers, on a gateway with these settings."""
    key = await api.new_key(allow_ips=[allow])
    headers = [("X-Forwarded-For", value) for value in forwarded_for]
    async with serving(api.db, api.clock, **settings) as (client, _):
        return await client.post("/balance", json={"api_key": key}, headers=headers)


async def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(
    api: Api,
) -> None:
    refused = await _allowlisted_call(api, ["10.1.2.3"])
    assert _code(refused) == "TS-1041"
    assert "127.0.0.1" in refused.json()["result_message"]
    untrusted = await _allowlisted_call(api, ["10.1.2.3"], trusted_proxies="192.0.2.0/24")
    assert _code(untrusted) == "TS-1041"


async def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_address(
    api: Api,
) -> None:
    # A client writes an allowlisted address; the proxy appends the one it saw.
    spoofed = await _allowlisted_call(
        api, ["10.1.2.3, 203.0.113.9"], trusted_proxies="127.0.0.1/32"
    )
    assert _code(spoofed) == "TS-1041"
    assert "203.0.113.9" in spoofed.json()["result_message"]
    assert "10.1.2.3" not in spoofed.json()["result_message"]
    # The real client is allowlisted: passes through one proxy, then through two.
    direct = await _allowlisted_call(api, ["10.1.2.3"], trusted_proxies="127.0.0.1/32")
    assert _code(direct) == "TS-1040"
    chained = await _allowlisted_call(
        api, ["203.0.113.9, 10.1.2.3", "172.16.0.5"], trusted_proxies="127.0.0.1, 172.16.0.0/12"
    )
    assert _code(chained) == "TS-1040"


async def test_a_garbled_forwarded_for_is_no_address_of_the_allowlist(api: Api) -> None:
    garbled = await _allowlisted_call(
        api, ["10.1.2.3, not-an-address"], trusted_proxies="127.0.0.1/32"
    )
    assert _code(garbled) == "TS-1041"
    assert "not-an-address" in garbled.json()["result_message"]


async def test_a_trusted_proxy_without_forwarded_for_is_the_caller(api: Api) -> None:
    response = await _allowlisted_call(api, [], allow="127.0.0.0/8", trusted_proxies="127.0.0.1/32")
    assert _code(response) == "TS-1040"


async def test_a_trusted_proxies_setting_that_is_not_a_network_stops_the_start(
    api: Api,
) -> None:
    with pytest.raises(ValueError, match=r"(?i)trusted_proxies"):
        settings = api_settings(api.db, trusted_proxies="10.0.0.0/8, 10.0.0.0/33")
        create_app(Services.create(settings, api.db, api.clock))
