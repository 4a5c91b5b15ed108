"""Resellers through the API: a key with ``manage_subaccounts`` runs its own customer accounts
and nobody else's; a customer sees nothing of its reseller or its siblings; a reseller's
suspension holds its customers, a customer's holds nobody else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ileti.accounts.accounts import AccountChange
from ileti.domain.permissions import Permission
from ileti.domain.schedule import ISTANBUL
from ileti.store import accounts, keys, prices
from ileti.store.db import Database
from support.api import serving
from support.clock import ManualClock

NUMBER = "905321234567"
MANAGE = {Permission.MANAGE_SUBACCOUNTS}


@dataclass
class Resale:
    """Two resellers (``agency`` with a managing key and a plain one, ``rival``) over one API."""

    client: httpx.AsyncClient
    services: Any
    clock: ManualClock
    agency_id: int
    agency_key: str
    plain_key: str
    rival_key: str

    async def post(self, path: str, key: str, **fields: Any) -> httpx.Response:
        return await self.client.post(path, json={"api_key": key, **fields})

    async def ok(self, path: str, key: str | None = None, **fields: Any) -> dict[str, Any]:
        answer = await self.post(path, key or self.agency_key, **fields)
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"] is True, answer.text
        return answer.json()

    async def code(self, path: str, key: str | None = None, **fields: Any) -> str:
        return (await self.post(path, key or self.agency_key, **fields)).json()["result_code"]

    async def customer(self, name: str, key: str | None = None, **fields: Any) -> dict[str, Any]:
        made = await self.ok("/reseller/account/create", key, name=name, **fields)
        return made["account"]

    async def customer_key(self, account: object, key: str | None = None, **fields: Any) -> str:
        return (await self.ok("/reseller/key/create", key, account=account, **fields))["key"]

    def later(self) -> None:
        """Past the key cache's second."""
        self.clock.advance(2)


@pytest.fixture
async def resale(db: Database) -> AsyncIterator[Resale]:
    clock = ManualClock()
    now = clock.now()
    async with db.write() as conn:
        agency = await accounts.create_account(
            conn, "agency", now, credits=1000, international_kurus=5000
        )
        rival = await accounts.create_account(conn, "rival", now, credits=500)
        agency_key, _ = await keys.create_key(conn, agency.id, now, allow=MANAGE)
        plain_key, _ = await keys.create_key(conn, agency.id, now)
        rival_key, _ = await keys.create_key(conn, rival.id, now, allow=MANAGE)
    async with serving(db, clock) as (client, services):
        yield Resale(client, services, clock, agency.id, agency_key, plain_key, rival_key)


# Making and listing customers.


async def test_a_reseller_makes_customers_and_lists_them_with_balances(resale: Resale) -> None:
    shop = await resale.customer("shop")
    cafe = await resale.customer("cafe", shared_balance=True, daily_cap=200)
    assert shop["status"] == "active" and shop["shared_balance"] is False
    assert shop["balance"] == {"main": 0, "international": 0.0}
    assert shop["last_activity"] is None
    assert (cafe["shared_balance"], cafe["daily_cap"]) == (True, 200)

    listed = await resale.ok("/reseller/account/list")
    assert [a["name"] for a in listed["accounts"]] == ["shop", "cafe"]
    by_id = await resale.ok("/reseller/account/show", account=shop["id"])
    by_name = await resale.ok("/reseller/account/show", account="shop")
    by_digits = await resale.ok("/reseller/account/show", account=str(shop["id"]))
    assert by_id["account"] == by_name["account"] == by_digits["account"] == shop

    # The reseller's own audit log names what was done and by which key.
    entries, _ = await resale.services.audit.page(resale.agency_id)
    assert [(e.action, e.subject) for e in entries] == [
        ("child.create", "cafe"),
        ("child.create", "shop"),
    ]
    assert entries[0].actor == f"key {resale.agency_key[:14]}"
    assert entries[0].detail == "shared balance, at most 200 credits a day"


async def test_a_customer_sends_abroad_as_its_reseller_may(resale: Resale) -> None:
    shop = await resale.customer("shop")
    [view] = [a for a in await resale.services.accounts.all() if a.id == shop["id"]]
    assert view.international_enabled is True


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "a\nb"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "agency"}, "name"),
        ({"name": "kid", "daily_cap": 5}, "daily_cap"),
        ({"name": "kid", "shared_balance": True, "daily_cap": 0}, "daily_cap"),
    ],
)
async def test_a_customer_that_cannot_be_made_is_refused_naming_the_field(
    resale: Resale, fields: dict[str, Any], field: str
) -> None:
    answer = await resale.post("/reseller/account/create", resale.agency_key, **fields)
    assert answer.json()["result_code"] == "TS-1035", answer.text
    assert answer.json()["errors"][0]["field"] == field
    assert (await resale.ok("/reseller/account/list"))["accounts"] == []


async def test_auth_check_shows_the_permission_only_where_it_was_granted(resale: Resale) -> None:
    granted = await resale.ok("/auth/check", resale.agency_key)
    plain = await resale.ok("/auth/check", resale.plain_key)
    assert granted["key_details"]["permissions"]["manage_subaccounts"] is True
    assert plain["key_details"]["permissions"]["manage_subaccounts"] is False
    assert plain["key_details"]["permissions"]["send_single_sms"] is True


# Who may do what.

EVERY_PATH = [
    "/reseller/account/create",
    "/reseller/account/list",
    "/reseller/account/show",
    "/reseller/account/suspend",
    "/reseller/account/reactivate",
    "/reseller/key/create",
    "/reseller/title/add",
    "/reseller/user/add",
    "/reseller/transfer",
    "/reseller/transfers",
    "/reseller/price/set",
    "/reseller/price/reset",
    "/reseller/price/list",
    "/reseller/usage",
]


async def test_a_key_without_the_permission_and_a_customers_key_are_refused(
    resale: Resale,
) -> None:
    shop = await resale.customer("shop")
    shop_key = await resale.customer_key("shop")
    for key in (resale.plain_key, shop_key):
        for path in EVERY_PATH:
            answer = await resale.post(path, key, account=shop["id"], name="x")
            assert answer.status_code == 403, (path, answer.text)
            assert answer.json()["result_code"] == "TS-1065", (path, answer.text)
    # The customer's key holds every other permission, never this one.
    permissions = (await resale.ok("/auth/check", shop_key))["key_details"]["permissions"]
    assert permissions == {p.value: p is not Permission.MANAGE_SUBACCOUNTS for p in Permission}


async def test_no_reseller_reaches_another_ones_customer_by_id_or_by_name(resale: Resale) -> None:
    theirs = await resale.customer("theirs", resale.rival_key)
    mine = await resale.customer("mine")
    # Accounts that are not the agency's customers: the rival's, the rival itself, the agency
    # itself, and an id that names nothing.
    strangers: list[object] = [theirs["id"], "theirs", "rival", "agency", resale.agency_id, 99999]
    asks: list[tuple[str, dict[str, Any]]] = [
        ("/reseller/account/show", {}),
        ("/reseller/account/suspend", {}),
        ("/reseller/account/reactivate", {}),
        ("/reseller/key/create", {}),
        ("/reseller/title/add", {"title": "THEIRS", "reason": "ours now"}),
        ("/reseller/user/add", {"email": "intruder@example.com"}),
        ("/reseller/transfer", {"credits": 5, "direction": "from_child"}),
        ("/reseller/transfers", {}),
        ("/reseller/price/set", {"region": "DE", "price": 9.99}),
        ("/reseller/price/reset", {"region": "DE"}),
        ("/reseller/price/list", {}),
        ("/reseller/usage", {}),
    ]
    for stranger in strangers:
        for path, fields in asks:
            answer = await resale.post(path, resale.agency_key, account=stranger, **fields)
            assert answer.status_code == 404, (path, stranger, answer.text)
            assert answer.json()["result_code"] == "TS-1039", (path, stranger, answer.text)

    # Nothing of the rival's changed, and the agency's list holds only its own.
    listed = await resale.ok("/reseller/account/list", resale.rival_key)
    assert [(a["name"], a["status"]) for a in listed["accounts"]] == [("theirs", "active")]
    assert listed["accounts"][0]["balance"]["main"] == 0
    assert await resale.services.keys.of_account(theirs["id"]) == []
    assert await resale.services.users.of_account(theirs["id"]) == []
    assert await resale.services.accounts.title_records(theirs["id"]) == []
    assert await resale.services.resellers.own_prices(theirs["id"]) == {}
    agency_list = await resale.ok("/reseller/account/list")
    assert [a["id"] for a in agency_list["accounts"]] == [mine["id"]]


async def test_a_customer_sees_nothing_of_its_reseller_or_siblings(resale: Resale) -> None:
    await resale.customer("shop")
    await resale.customer("cafe")
    await resale.ok("/reseller/transfer", account="shop", credits=30, direction="to_child")
    shop_key = await resale.customer_key("shop")
    # Its balance is its own; its titles and reports hold nothing of the others.
    assert (await resale.ok("/balance", shop_key))["balance"] == {"main": 30, "international": 0.0}
    assert (await resale.ok("/senderid/list", shop_key))["titles"] == []
    summary = await resale.ok("/reports/summary", shop_key)
    assert summary["days"] == []


# Suspension.


async def test_a_suspended_reseller_holds_its_customers_until_reactivated(resale: Resale) -> None:
    await resale.customer("shop")
    await resale.ok("/reseller/transfer", account="shop", credits=10, direction="to_child")
    shop_key = await resale.customer_key("shop")
    await resale.services.accounts.add_title("shop", "SHOP", active=True)
    send = {"title": "SHOP", "text": "hello", "sentto": NUMBER}

    await resale.services.accounts.change("agency", AccountChange(active=False))
    resale.later()
    assert await resale.code("/sms/send", shop_key, **send) == "TS-1030"
    assert await resale.code("/balance", shop_key) == "TS-1030"
    assert await resale.code("/reseller/account/list") == "TS-1030"

    await resale.services.accounts.change("agency", AccountChange(active=True))
    resale.later()
    assert await resale.code("/balance", shop_key) == "TS-1040"
    assert await resale.code("/sms/send", shop_key, **send) == "TS-1024"


async def test_a_suspended_customer_touches_nobody_else(resale: Resale) -> None:
    await resale.customer("shop")
    await resale.customer("cafe")
    shop_key, cafe_key = await resale.customer_key("shop"), await resale.customer_key("cafe")

    suspended = await resale.ok("/reseller/account/suspend", account="shop")
    assert suspended["account"]["status"] == "inactive"
    resale.later()
    assert await resale.code("/balance", shop_key) == "TS-1030"
    assert await resale.code("/balance", cafe_key) == "TS-1040"
    assert await resale.code("/balance", resale.agency_key) == "TS-1040"
    assert await resale.code("/reseller/account/list") == "TS-1040"

    back = await resale.ok("/reseller/account/reactivate", account="shop")
    assert back["account"]["status"] == "active"
    resale.later()
    assert await resale.code("/balance", shop_key) == "TS-1040"
    actions = [e.action for e in (await resale.services.audit.page(resale.agency_id))[0]]
    assert actions[:2] == ["child.reactivate", "child.suspend"]


# What a customer sends with.


async def test_a_key_for_a_customer_works_as_asked_and_is_shown_once(resale: Resale) -> None:
    await resale.customer("shop")
    made = await resale.ok(
        "/reseller/key/create",
        account="shop",
        deny=["send_bulk_sms", "send_otp"],
        allow_ips=["127.0.0.1"],
        per_minute=30,
    )
    assert made["permissions"]["send_bulk_sms"] is False
    assert made["permissions"]["manage_subaccounts"] is False
    assert made["permissions"]["send_single_sms"] is True
    assert (made["allowed_ips"], made["per_minute"]) == (["127.0.0.1/32"], 30)
    assert made["key"].startswith(made["prefix"])
    assert await resale.code("/balance", made["key"]) == "TS-1040"
    group = {"title": "SHOP", "text": "hi", "sentto": [NUMBER]}
    assert await resale.code("/group/send", made["key"], **group) == "TS-1065"
    # The customer's own audit log shows its reseller made it, not which of its keys.
    entries, _ = await resale.services.audit.page(made["account_id"])
    assert [(e.action, e.actor, e.subject) for e in entries] == [
        ("key.create", "reseller", made["prefix"])
    ]

    refused = await resale.post(
        "/reseller/key/create", resale.agency_key, account="shop", allow_ips=["not an address"]
    )
    assert refused.json()["result_code"] == "TS-1035"
    assert refused.json()["errors"][0]["field"] == "allow_ips"


async def test_a_title_for_a_customer_waits_for_the_operator(resale: Resale) -> None:
    await resale.customer("shop")
    added = await resale.ok(
        "/reseller/title/add", account="shop", title="SHOP", reason="the shop's receipts"
    )
    assert (added["title"], added["status"]) == ("SHOP", "pending")
    assert [(t.title, t.status) for t in await resale.services.accounts.titles_of("shop")] == [
        ("SHOP", "pending")
    ]
    again = await resale.post(
        "/reseller/title/add", resale.agency_key, account="shop", title="SHOP", reason="again"
    )
    assert again.json()["result_code"] == "TS-1035"


async def test_a_panel_user_for_a_customer_gets_a_password_once(resale: Resale) -> None:
    shop = await resale.customer("shop")
    added = await resale.ok(
        "/reseller/user/add", account="shop", email="Owner@Shop.example", role="owner"
    )
    assert (added["email"], added["role"]) == ("owner@shop.example", "owner")
    assert len(added["password"]) >= 12
    [user] = await resale.services.users.of_account(shop["id"])
    assert (user.email, user.role.value) == ("owner@shop.example", "owner")
    for fields, field in (
        ({"email": "owner@shop.example"}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "m@shop.example", "role": "admin"}, "role"),
    ):
        answer = await resale.post(
            "/reseller/user/add", resale.agency_key, account="shop", **fields
        )
        assert answer.json()["result_code"] == "TS-1035", answer.text
        assert answer.json()["errors"][0]["field"] == field


# Transfers.


async def test_credits_move_both_ways_once_per_idempotency_key(resale: Resale) -> None:
    shop = await resale.customer("shop")
    retry = {"Idempotency-Key": "topup-1"}
    body = {"api_key": resale.agency_key, "account": "shop", "credits": 40, "direction": "to_child"}
    first = await resale.client.post("/reseller/transfer", json=body, headers=retry)
    again = await resale.client.post("/reseller/transfer", json=body, headers=retry)
    assert first.json()["result_code"] == again.json()["result_code"] == "TS-1064", first.text
    assert first.json()["transfer"] == again.json()["transfer"]
    assert (first.json()["your_balance_after"], first.json()["account_balance_after"]) == (960, 40)
    assert again.json()["your_balance_after"] is None

    resale.clock.advance(1)
    back = await resale.ok(
        "/reseller/transfer", account=shop["id"], credits=15, direction="from_child"
    )
    assert (back["your_balance_after"], back["account_balance_after"]) == (975, 25)
    resale.clock.advance(1)
    abroad = await resale.ok(
        "/reseller/transfer", account="shop", international=12.5, direction="to_child"
    )
    assert abroad["transfer"]["international"] == 12.5
    assert abroad["account_balance_after"] == 12.5

    assert (
        await resale.code("/reseller/transfer", account="shop", credits=26, direction="from_child")
        == "TS-1027"
    )
    assert (
        await resale.code(
            "/reseller/transfer", account="shop", international=0.125, direction="to_child"
        )
        == "TS-1035"
    )
    shown = (await resale.ok("/reseller/account/show", account="shop"))["account"]
    assert shown["balance"] == {"main": 25, "international": 12.5}

    resale.clock.advance(1)
    listed = await resale.ok("/reseller/transfers", account="shop", limit=2)
    assert [(t["direction"], t["credits"], t["international"]) for t in listed["transfers"]] == [
        ("to_child", None, 12.5),
        ("from_child", 15, None),
    ]
    rest = await resale.ok("/reseller/transfers", before=listed["next_before"])
    assert [t["credits"] for t in rest["transfers"]] == [40]
    assert rest["next_before"] is None


async def test_a_shared_balance_customer_has_nothing_to_transfer(resale: Resale) -> None:
    await resale.customer("cafe", shared_balance=True)
    answer = await resale.post(
        "/reseller/transfer", resale.agency_key, account="cafe", credits=5, direction="to_child"
    )
    assert answer.json()["result_code"] == "TS-1035"


# Prices.


async def test_a_customers_price_is_never_below_the_resellers_own(resale: Resale) -> None:
    shop = await resale.customer("shop")
    await resale.services.resellers.set_account_price("agency", "DE", 200)

    below = await resale.post(
        "/reseller/price/set", resale.agency_key, account="shop", region="DE", price=1.99
    )
    assert below.json()["result_code"] == "TS-1035"
    assert "2.00 TRY" in below.json()["result_message"]
    set_ = await resale.ok("/reseller/price/set", account="shop", region="DE", price=2.40)
    table = {p["region"]: (p["price"], p["own"]) for p in set_["prices"]}
    assert table["DE"] == (2.4, True)
    assert table["FR"] == (1.7, False)  # the installation's, as the agency's

    mine = await resale.ok("/reseller/price/list")
    assert {p["region"]: p["price"] for p in mine["prices"]}["DE"] == 2.0
    # Every country the agency has no own price for: its * at least.
    assert (
        await resale.code("/reseller/price/set", account="shop", region="*", price=2.49)
        == "TS-1035"
    )
    for region in ("TR", "XX", "de"):
        answer = await resale.post(
            "/reseller/price/set", resale.agency_key, account="shop", region=region, price=9
        )
        assert answer.json()["result_code"] == "TS-1035", region

    # The agency's price going up lifts its customer's with it.
    await resale.services.resellers.set_account_price("agency", "DE", 300)
    async with resale.services.db.read() as conn:
        both = await prices.prices_for(conn, {shop["id"], resale.agency_id})
    assert (both[shop["id"]]["DE"], both[resale.agency_id]["DE"]) == (300, 300)

    reset = await resale.ok("/reseller/price/reset", account="shop", region="DE")
    assert {p["region"]: p["own"] for p in reset["prices"]}["DE"] is False
    assert await resale.services.resellers.own_prices(shop["id"]) == {}


# Usage.


def _scheduled(clock: ManualClock) -> dict[str, Any]:
    at = (clock.now() + timedelta(hours=3)).astimezone(ISTANBUL)
    return {
        "scheduled_sms": 1,
        "scheduled_date": at.strftime("%Y-%m-%d"),
        "scheduled_time": at.strftime("%H:%M"),
    }


async def test_usage_per_customer_and_day_counts_charges_and_refunds(resale: Resale) -> None:
    shop = await resale.customer("shop")
    await resale.customer("cafe")
    await resale.ok("/reseller/transfer", account="shop", credits=20, direction="to_child")
    await resale.services.accounts.add_title("shop", "SHOP", active=True)
    shop_key = await resale.customer_key("shop")
    send = {"title": "SHOP", "sentto": NUMBER}
    await resale.ok("/sms/send", shop_key, text="a" * 200, sms_lang=0, **send)  # 2 segments
    later = await resale.ok("/sms/send", shop_key, text="soon", **send, **_scheduled(resale.clock))
    await resale.ok("/sms/cancel", shop_key, sms_id=later["sms_id"])

    today = resale.clock.now().astimezone(ISTANBUL).date()
    usage = await resale.ok("/reseller/usage")
    assert (usage["date_from"], usage["date_to"]) == (
        today.replace(day=1).isoformat(),
        today.isoformat(),
    )
    assert usage["usage"] == [
        {
            "account_id": shop["id"],
            "name": "shop",
            "date": today.isoformat(),
            "messages": 2,
            "segments": 3,
            "credits": 3,
            "refunded_credits": 1,
            "international_kurus": 0,
            "refunded_international_kurus": 0,
        }
    ]
    one = await resale.ok("/reseller/usage", account="cafe", date_from=today.isoformat())
    assert one["usage"] == []
    listed = (await resale.ok("/reseller/account/show", account="shop"))["account"]
    assert listed["last_activity"] is not None
    assert listed["balance"]["main"] == 18


async def test_the_document_describes_every_reseller_endpoint(resale: Resale) -> None:
    document = (await resale.client.get("/openapi.json")).json()
    for path in EVERY_PATH:
        operation = document["paths"][path]["post"]
        assert operation["x-permission"] == "manage_subaccounts", path
        assert "TS-1065" in operation["x-resultCodes"], path
