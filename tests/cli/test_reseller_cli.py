"""The operator's doors to resellers: customer accounts made under a parent, keys that manage
them, daily caps, low-balance thresholds and prices per account, run as an operator runs them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from ileti.cli import app
from ileti.config import get_settings
from ileti.services import Services
from ileti.store.db import open_database

runner = CliRunner()
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _database(database_target, tmp_path, monkeypatch: pytest.MonkeyPatch):
    for name, value in database_target.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "80")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def ileti(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def listing(*args: str) -> list[dict[str, Any]]:
    return json.loads(ileti(*args, "--json").strip().splitlines()[-1])


def ask(work: Callable[[Services], Awaitable[T]]) -> T:
    """What the services say now, read the way the commands read it."""

    async def main() -> T:
        settings = get_settings()
        db = open_database(settings)
        try:
            return await work(Services.create(settings, db))
        finally:
            await db.close()

    return asyncio.run(main())


@pytest.fixture
def agency() -> int:
    [made] = listing("account", "create", "agency", "--credits", "500")
    return int(made["id"])


def test_a_customer_account_is_made_under_its_parent_and_listed_with_it(agency: int) -> None:
    [shop] = listing(
        "account", "create", "shop", "--parent", "agency", "--shared-balance", "--daily-cap", "100"
    )
    assert (shop["parent"], shop["shared_balance"], shop["daily_cap"]) == ("agency", True, 100)
    listing("account", "create", "cafe", "--parent", "agency")
    accounts = {a["name"]: a["parent"] for a in listing("account", "list")}
    assert accounts == {"agency": None, "shop": "agency", "cafe": "agency"}

    children = ask(lambda s: s.resellers.children(agency))
    assert [(c.name, c.shared_balance, c.daily_cap) for c in children] == [
        ("shop", True, 100),
        ("cafe", False, None),
    ]
    entries, _ = ask(lambda s: s.audit.page(agency))
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        ("operator", "child.create", "cafe"),
        ("operator", "child.create", "shop"),
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("account", "create", "kid", "--parent", "shop"), "cannot have customers"),
        (("account", "create", "kid", "--parent", "nobody"), "no account named"),
        (("account", "create", "kid", "--shared-balance"), "go with --parent"),
        (("account", "create", "kid", "--parent", "agency", "--credits", "5"), "by transfer"),
        (("account", "create", "kid", "--parent", "agency", "--daily-cap", "5"), "daily_cap"),
        (("account", "create", "shop", "--parent", "agency"), "is taken"),
    ],
)
def test_what_cannot_be_a_customer_is_refused_and_nothing_is_made(
    agency: int, args: tuple[str, ...], says: str
) -> None:
    listing("account", "create", "shop", "--parent", "agency")
    output = ileti(*args, ok=False)
    assert says in " ".join(output.split()), output
    assert [a["name"] for a in listing("account", "list")] == ["agency", "shop"]


def test_only_a_key_asked_for_manages_customers_and_never_a_customers_key(agency: int) -> None:
    listing("account", "create", "shop", "--parent", "agency")
    ileti("key", "create", "agency")
    ileti("key", "create", "agency", "--allow", "manage_subaccounts")
    plain, managing = listing("key", "list", "agency")
    assert "manage_subaccounts" not in plain["permissions"]
    assert "manage_subaccounts" in managing["permissions"]
    output = ileti("key", "create", "shop", "--allow", "manage_subaccounts", ok=False)
    assert "cannot manage subaccounts" in output
    assert listing("key", "list", "shop") == []


def test_a_daily_cap_and_a_low_balance_threshold_are_set_and_lifted(agency: int) -> None:
    listing("account", "create", "shop", "--parent", "agency", "--shared-balance")
    listing("account", "create", "cafe", "--parent", "agency")

    def shop() -> Any:
        return ask(lambda s: s.resellers.children(agency))[0]

    ileti("account", "set", "shop", "--daily-cap", "50", "--low-balance", "20")
    assert (shop().daily_cap, shop().low_balance_threshold) == (50, 20)
    ileti("account", "set", "shop", "--no-daily-cap", "--no-low-balance")
    assert (shop().daily_cap, shop().low_balance_threshold) == (None, None)

    refused = ileti("account", "set", "cafe", "--daily-cap", "5", ok=False)
    assert "shares its reseller's balance" in " ".join(refused.split())
    refused = ileti("account", "set", "agency", "--daily-cap", "5", ok=False)
    assert "no reseller's customer" in " ".join(refused.split())
    ileti("account", "set", "shop", "--daily-cap", "5", "--no-daily-cap", ok=False)


def test_an_accounts_own_prices_and_a_customers_floor(agency: int) -> None:
    listing("account", "create", "shop", "--parent", "agency")
    ileti("price", "set", "DE", "2.00", "--account", "agency")
    refused = ileti("price", "set", "DE", "1.50", "--account", "shop", ok=False)
    assert "TS-1035" in refused and "2.00 TRY" in refused
    ileti("price", "set", "DE", "2.50", "--account", "shop")

    prices = {p["region"]: p for p in listing("price", "list", "--account", "shop")}
    assert (prices["DE"]["try_per_segment"], prices["DE"]["source"]) == ("2.50", "account")
    assert (prices["FR"]["try_per_segment"], prices["FR"]["source"]) == ("1.70", "inherited")
    # The installation's table is untouched.
    installation = {p["region"]: p for p in listing("price", "list")}
    assert installation["DE"]["try_per_segment"] == "1.60"

    assert "inherits" in ileti("price", "reset", "DE", "--account", "shop")
    prices = {p["region"]: p for p in listing("price", "list", "--account", "shop")}
    assert (prices["DE"]["try_per_segment"], prices["DE"]["source"]) == ("2.00", "inherited")
    assert "TS-1035" in ileti("price", "set", "XX", "1", "--account", "shop", ok=False)


def test_the_operator_suspends_a_customer_as_any_account(agency: int) -> None:
    listing("account", "create", "shop", "--parent", "agency")
    ileti("account", "set", "shop", "--status", "inactive")
    statuses = {a["name"]: a["status"] for a in listing("account", "list")}
    assert statuses == {"agency": "active", "shop": "inactive"}
