"""Money between a reseller and its customers: transfers both ways on both balances, a
shared-balance child spending its parent's credits within its daily cap, refunds back to the
payer, low-balance events once per crossing, a suspended reseller's customers refused, and
every ledger summing to its balance under hundreds of concurrent transfers and sends; on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from ileti.access.logins import LoginRefused
from ileti.codes import GatewayError
from ileti.domain.permissions import Role
from ileti.domain.pricing import Balance
from ileti.domain.schedule import ISTANBUL
from ileti.domain.signing import new_secret
from ileti.domain.webhooks import EventType, WebhookConfig
from ileti.store import accounts, keys
from ileti.store import webhooks as outbox
from support.api import Api

_SENDS = itertools.count()


async def _child(
    api: Api, name: str, *, shared: bool = False, cap: int | None = None, credits: int = 0
) -> tuple[int, str]:
    """A customer of ``acme`` with a key of its own: (account id, key)."""
    now = api.clock.now()
    async with api.db.write() as conn:
        child = await accounts.create_account(conn, name, now, credits=credits)
        await conn.execute(
            text(
                "UPDATE accounts SET parent_id = :parent, shared_balance = :shared,"
                " daily_cap = :cap WHERE id = :id"
            ),
            {"parent": api.account_id, "shared": shared, "cap": cap, "id": child.id},
        )
        await accounts.add_title(conn, child.id, "CHILD", now, active=True)
        key, _ = await keys.create_key(conn, child.id, now)
    return child.id, key


async def _ledger_sums(api: Api, *account_ids: int) -> list[tuple[int, int, int, int]]:
    """Per account: (credits, sum of its main ledger, international, sum of that ledger)."""
    found = []
    async with api.db.read() as conn:
        for account_id in account_ids:
            row = (
                await conn.execute(
                    text(
                        "SELECT credits, international_kurus,"
                        " (SELECT coalesce(sum(amount), 0) FROM credit_ledger"
                        "  WHERE account_id = :id AND balance = 'main') AS main_sum,"
                        " (SELECT coalesce(sum(amount), 0) FROM credit_ledger"
                        "  WHERE account_id = :id AND balance = 'international') AS intl_sum"
                        " FROM accounts WHERE id = :id"
                    ),
                    {"id": account_id},
                )
            ).one()
            found.append(
                (row.credits, int(row.main_sum), row.international_kurus, int(row.intl_sum))
            )
    return found


async def _send(api: Api, key: str, number: str = "905321234567", **fields: Any) -> httpx.Response:
    return await api.post(
        "/sms/send",
        {
            "api_key": key,
            "title": fields.pop("title", "CHILD"),
            "text": f"Merhaba {next(_SENDS)}",
            "sentto": number,
            **fields,
        },
    )


async def _balance(api: Api, key: str) -> dict[str, Any]:
    reply = await api.post("/balance", {"api_key": key})
    assert reply.status_code == 200, reply.text
    return dict(reply.json()["balance"])


async def test_credits_move_both_ways_with_one_transfer_id_and_never_below_zero(api: Api) -> None:
    child, _ = await _child(api, "customer")
    transfers = api.services.transfers
    given = await transfers.transfer(api.account_id, child, Balance.MAIN, 100, "to_child", 1, None)
    assert (given.parent_balance_after, given.child_balance_after) == (50, 100)
    api.clock.advance(1)
    back = await transfers.transfer(api.account_id, child, Balance.MAIN, 30, "from_child", 1, None)
    assert (back.parent_balance_after, back.child_balance_after) == (80, 70)
    api.clock.advance(1)
    kurus = await transfers.transfer(
        api.account_id, child, Balance.INTERNATIONAL, 250, "to_child", 1, None
    )
    assert (kurus.parent_balance_after, kurus.child_balance_after) == (1000, 250)
    with pytest.raises(GatewayError) as short:
        await transfers.transfer(api.account_id, child, Balance.MAIN, 81, "to_child", 1, None)
    assert short.value.result.code == "TS-1027"
    assert "your main balance has 80 credits" in short.value.message
    with pytest.raises(GatewayError) as theirs:
        await transfers.transfer(api.account_id, child, Balance.MAIN, 71, "from_child", 1, None)
    assert "the customer's main balance has 70 credits" in theirs.value.message
    for bad in (0, -5, 1.5, True, "10"):
        with pytest.raises(GatewayError) as refused:
            await transfers.transfer(api.account_id, child, Balance.MAIN, bad, "to_child", 1, None)
        assert refused.value.result.code == "TS-1035"
    assert await _ledger_sums(api, api.account_id, child) == [
        (80, 80, 1000, 1000),
        (70, 70, 250, 250),
    ]
    async with api.db.read() as conn:
        entries = (
            await conn.execute(
                text(
                    "SELECT account_id, amount, reference FROM credit_ledger"
                    " WHERE kind = 'transfer' ORDER BY id"
                )
            )
        ).all()
    assert len(entries) == 6
    assert {e.reference.rsplit(":", 1)[0] for e in entries[:2]} == {f"transfer:{given.id}"}
    history = await transfers.history(api.account_id, child, 10)
    assert [(t.direction, t.amount) for t in history] == [
        ("to_child", 250),
        ("from_child", 30),
        ("to_child", 100),
    ]


async def test_a_retried_transfer_moves_nothing_twice(api: Api) -> None:
    child, _ = await _child(api, "customer")
    transfers = api.services.transfers
    first, *repeats = await asyncio.gather(
        *(
            transfers.transfer(api.account_id, child, Balance.MAIN, 40, "to_child", 7, "retry-1")
            for _ in range(5)
        )
    )
    assert {r.id for r in repeats} == {first.id}
    assert await _ledger_sums(api, api.account_id, child) == [
        (110, 110, 1250, 1250),
        (40, 40, 0, 0),
    ]
    with pytest.raises(GatewayError) as reused:
        await transfers.transfer(api.account_id, child, Balance.MAIN, 41, "to_child", 7, "retry-1")
    assert reused.value.result.code == "TS-1035"
    # Another key's same Idempotency-Key is another transfer.
    other = await transfers.transfer(
        api.account_id, child, Balance.MAIN, 40, "to_child", 8, "retry-1"
    )
    assert other.id != first.id


async def test_a_transfer_reaches_only_the_resellers_own_customers(api: Api) -> None:
    now = api.clock.now()
    async with api.db.write() as conn:
        stranger = await accounts.create_account(conn, "stranger", now, credits=10)
    shared, _ = await _child(api, "shares", shared=True)
    transfers = api.services.transfers
    for account in (stranger.id, api.account_id, 999_999):
        with pytest.raises(GatewayError) as refused:
            await transfers.transfer(api.account_id, account, Balance.MAIN, 1, "to_child", 1, None)
        assert refused.value.result.code == "TS-1039"
    with pytest.raises(GatewayError) as no_balance:
        await transfers.transfer(api.account_id, shared, Balance.MAIN, 1, "to_child", 1, None)
    assert no_balance.value.result.code == "TS-1035"
    assert await _ledger_sums(api, api.account_id, stranger.id) == [
        (150, 150, 1250, 1250),
        (10, 10, 0, 0),
    ]


async def test_a_shared_child_spends_its_parents_credits_within_its_daily_cap(api: Api) -> None:
    child, key = await _child(api, "shop", shared=True, cap=3)
    assert (await _balance(api, key))["main"] == 3  # the cap is less than the parent's 150
    for _ in range(3):
        reply = await _send(api, key)
        assert reply.json()["result_code"] == "TS-1024", reply.text
    refused = await _send(api, key)
    assert refused.json()["result_code"] == "TS-1027", refused.text
    assert (await _balance(api, key))["main"] == 0
    credits, main_sum, _, _ = (await _ledger_sums(api, api.account_id))[0]
    assert (credits, main_sum) == (147, 147)
    assert (await _ledger_sums(api, child))[0][:2] == (0, 0)
    # The next Istanbul day has its own cap.
    api.clock.advance(24 * 3600)
    assert (await _balance(api, key))["main"] == 3
    assert (await _send(api, key)).json()["result_code"] == "TS-1024"


async def test_a_shared_childs_refund_goes_back_to_the_parent(api: Api) -> None:
    _, key = await _child(api, "shop", shared=True)
    later = (api.clock.now() + timedelta(days=2)).astimezone(ISTANBUL)
    scheduled = await _send(
        api,
        key,
        scheduled_sms=1,
        scheduled_date=later.strftime("%Y-%m-%d"),
        scheduled_time="10:00",
    )
    sms_id = scheduled.json()["sms_id"]
    assert (await _balance(api, api.key))["main"] == 149
    cancelled = await api.post("/sms/cancel", {"api_key": key, "sms_id": sms_id})
    assert cancelled.json()["result_code"] == "TS-1064", cancelled.text
    assert (await _balance(api, api.key))["main"] == 150
    assert (await _ledger_sums(api, api.account_id))[0][:2] == (150, 150)


async def test_low_balance_is_announced_once_per_crossing(api: Api) -> None:
    async with api.db.write() as conn:
        key = await keys.find_key(conn, api.key)
        await outbox.save_config(
            conn,
            key.id,
            WebhookConfig(
                "https://hooks.example.com/",
                new_secret(),
                events=frozenset({EventType.ACCOUNT_LOW_BALANCE}),
            ),
        )
    await api.services.accounts.set_low_balance(api.account_id, 148)

    async def announced() -> list[str]:
        async with api.db.read() as conn:
            rows = await conn.execute(
                text("SELECT body FROM webhook_events WHERE event_type = 'account.low_balance'")
            )
            return [row.body for row in rows]

    for expected in (0, 0, 1, 1):  # 149, 148, 147 (below), 146
        reply = await _send(api, api.key, title="ACME")
        assert reply.json()["result_code"] == "TS-1024"
        assert len(await announced()) == expected
    assert '"credits":147' in (await announced())[0] and '"threshold":148' in (await announced())[0]
    await api.services.accounts.top_up("acme", Balance.MAIN, 10)  # 156: back above
    for _ in range(8):  # down to 148: not below
        await _send(api, api.key, title="ACME")
    assert len(await announced()) == 1
    await _send(api, api.key, title="ACME")  # 147: below again
    assert len(await announced()) == 2


async def test_a_suspended_resellers_customers_are_refused_until_it_returns(api: Api) -> None:
    _, own_key = await _child(api, "own", credits=5)
    _, shared_key = await _child(api, "shares", shared=True)
    async with api.db.write() as conn:
        await accounts.set_account_status(conn, api.account_id, False)
    api.clock.advance(5)  # past the key cache
    for key in (own_key, shared_key):
        assert (await _send(api, key)).json()["result_code"] == "TS-1030"
        assert (await api.post("/balance", {"api_key": key})).json()["result_code"] == "TS-1030"
    async with api.db.write() as conn:
        await accounts.set_account_status(conn, api.account_id, True)
    api.clock.advance(5)
    for key in (own_key, shared_key):
        assert (await _send(api, key)).json()["result_code"] == "TS-1024"


async def test_a_suspended_child_touches_nobody_else(api: Api) -> None:
    child, key = await _child(api, "own", credits=5)
    _, sibling_key = await _child(api, "sibling", credits=5)
    async with api.db.write() as conn:
        await accounts.set_account_status(conn, child, False)
    api.clock.advance(5)
    assert (await _send(api, key)).json()["result_code"] == "TS-1030"
    assert (await _send(api, sibling_key)).json()["result_code"] == "TS-1024"
    assert (await _send(api, api.key, title="ACME")).json()["result_code"] == "TS-1024"


async def test_hundreds_of_concurrent_transfers_and_sends_keep_every_ledger_exact(
    api: Api,
) -> None:
    await api.services.accounts.top_up("acme", Balance.MAIN, 850)  # 1,000 credits
    own, own_key = await _child(api, "own", credits=0)
    _, shared_key = await _child(api, "shares", shared=True)
    transfers = api.services.transfers
    chance = random.Random(20)

    async def move(n: int) -> str:
        direction = chance.choice(("to_child", "from_child"))
        balance = chance.choice((Balance.MAIN, Balance.MAIN, Balance.INTERNATIONAL))
        try:
            await transfers.transfer(
                api.account_id, own, balance, chance.randint(1, 30), direction, 1, f"t{n}"
            )
        except GatewayError as refused:
            return refused.result.code
        return "moved"

    async def send(key: str) -> str:
        reply = await _send(api, key, title="ACME" if key == api.key else "CHILD")
        return str(reply.json()["result_code"])

    jobs = [move(n) for n in range(200)]
    jobs += [send(chance.choice((api.key, own_key, shared_key))) for _ in range(200)]
    chance.shuffle(jobs)
    outcomes = await asyncio.gather(*jobs)
    assert set(outcomes) <= {"moved", "TS-1027", "TS-1024"}, set(outcomes)
    assert outcomes.count("moved") > 50 and outcomes.count("TS-1024") > 50
    for credits, main_sum, kurus, intl_sum in await _ledger_sums(api, api.account_id, own):
        assert credits == main_sum >= 0 and kurus == intl_sum >= 0
    # Nothing made or lost: what both hold is what they had less what was sent.
    async with api.db.read() as conn:
        sent = (await conn.execute(text("SELECT count(*) FROM messages"))).scalar_one()
    (parent, _, parent_kurus, _), (child, _, child_kurus, _) = await _ledger_sums(
        api, api.account_id, own
    )
    assert parent + child == 1_000 - sent
    assert parent_kurus + child_kurus == 1_250


async def test_a_suspended_resellers_customers_cannot_log_in_to_the_panel(api: Api) -> None:
    child, _ = await _child(api, "own", credits=5)
    _, password = await api.services.users.add_to(
        child, "shop@example.com", Role.OWNER, actor="operator"
    )
    visit = await api.services.logins.password("shop@example.com", password, "127.0.0.1")
    assert visit is not None
    async with api.db.write() as conn:
        await accounts.set_account_status(conn, api.account_id, False)
    with pytest.raises(LoginRefused):
        await api.services.logins.password("shop@example.com", password, "127.0.0.1")
    assert await api.services.logins.visit(visit.token) is None


async def test_a_customer_pays_the_price_its_reseller_set_abroad(api: Api) -> None:
    child, key = await _child(api, "abroad")
    async with api.db.write() as conn:
        await accounts.set_international(conn, child, True)
    await api.services.transfers.transfer(
        api.account_id, child, Balance.INTERNATIONAL, 1000, "to_child", 1, None
    )
    parent_price = (await api.services.resellers.prices(api.account_id))["DE"]
    async with api.db.write() as conn:
        await conn.execute(
            text("INSERT INTO account_prices (account_id, region, kurus) VALUES (:a, 'DE', :k)"),
            {"a": child, "k": parent_price + 35},
        )
    reply = await _send(api, key, number="4915123456789")
    assert reply.json()["result_code"] == "TS-1024", reply.text
    assert (await _balance(api, key))["international"] == (1000 - parent_price - 35) / 100
