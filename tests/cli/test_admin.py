"""The operator's commands, run as an operator runs them, on a real database."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from ileti.cli import app
from ileti.config import get_settings
from ileti.domain import keys
from ileti.domain.pricing import Balance
from ileti.store import ledger
from ileti.store.db import open_database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _database(database_target, tmp_path, monkeypatch: pytest.MonkeyPatch):
    for name, value in database_target.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path))
    # Tables as wide as a common terminal.
    monkeypatch.setenv("COLUMNS", "80")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def ileti(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


def listing(*args: str) -> list[dict]:
    return json.loads(ileti(*args, "--json").strip().splitlines()[-1])


def test_account_create_list_and_topup_through_the_ledger() -> None:
    ileti("account", "create", "acme", "--credits", "100", "--international", "25.50")
    ileti("account", "topup", "acme", "--credits", "40")
    ileti("account", "topup", "acme", "--international", "0.25")
    [account] = listing("account", "list")
    assert account["credits"] == 140
    assert account["international"] == "25.75"
    assert account["international_enabled"] is True

    async def ledger_says() -> tuple[int | None, int | None]:
        db = open_database(get_settings())
        try:
            async with db.read() as conn:
                return (
                    await ledger.last_balance_after(conn, account["id"], Balance.MAIN),
                    await ledger.last_balance_after(conn, account["id"], Balance.INTERNATIONAL),
                )
        finally:
            await db.close()

    assert asyncio.run(ledger_says()) == (140, 2575)


@pytest.mark.parametrize(
    "args",
    [
        ("account", "topup", "acme"),
        ("account", "topup", "acme", "--credits", "1", "--international", "1"),
        ("account", "topup", "acme", "--credits", "-5"),
        ("account", "topup", "acme", "--international", "1.001"),
        ("account", "topup", "nobody", "--credits", "5"),
        ("account", "create", "acme"),
    ],
)
def test_bad_admin_input_is_refused_and_changes_nothing(args: tuple[str, ...]) -> None:
    ileti("account", "create", "acme", "--credits", "10")
    ileti(*args, ok=False)
    [account] = listing("account", "list")
    assert account["credits"] == 10


def test_key_create_prints_key_last_and_never_again() -> None:
    ileti("account", "create", "acme")
    output = ileti(
        "key",
        "create",
        "acme",
        "--deny",
        "send_otp",
        "--allow-ip",
        "10.0.0.0/8",
        "--per-minute",
        "60",
    )
    key = output.strip().splitlines()[-1]
    assert keys.prefix_of(key) == key[: keys.PREFIX_LENGTH]
    listed = ileti("key", "list", "acme") + ileti("key", "list", "acme", "--json")
    assert key not in listed
    [row] = listing("key", "list", "acme")
    assert row["prefix"] == key[: keys.PREFIX_LENGTH]
    assert "send_otp" not in row["permissions"]
    assert row["allowed_ips"] == ["10.0.0.0/8"]
    assert row["per_minute"] == 60


@pytest.mark.parametrize("by", ["full key", "prefix"])
def test_key_revoke_by_full_key_or_prefix(by: str) -> None:
    ileti("account", "create", "acme")
    key = ileti("key", "create", "acme").strip().splitlines()[-1]
    ileti("key", "revoke", key if by == "full key" else key[: keys.PREFIX_LENGTH])
    assert listing("key", "list", "acme")[0]["status"] == "revoked"


def test_key_revoke_with_a_forged_secret_is_refused() -> None:
    ileti("account", "create", "acme")
    key = ileti("key", "create", "acme").strip().splitlines()[-1]
    ileti("key", "revoke", key[: keys.PREFIX_LENGTH] + "_" + "Z" * 43, ok=False)
    assert listing("key", "list", "acme")[0]["status"] == "active"


def test_key_create_refuses_bad_cidr_and_permission() -> None:
    ileti("account", "create", "acme")
    ileti("key", "create", "acme", "--allow-ip", "not-a-network", ok=False)
    ileti("key", "create", "acme", "--deny", "send_everything", ok=False)
    assert listing("key", "list", "acme") == []


def test_titles_follow_the_market_rule_and_are_case_sensitive() -> None:
    ileti("account", "create", "acme")
    ileti("title", "add", "acme", "ACME", "--active")
    ileti("title", "add", "acme", "Acme")
    ileti("title", "add", "acme", "Acme-Shop 1")
    for bad in ("AB", "ABCDEFGHIJKL", "ŞİRKET", "acme!", "   "):
        ileti("title", "add", "acme", bad, ok=False)
    ileti("title", "set", "acme", "Acme", "active")
    ileti("title", "set", "acme", "ACME", "inactive")
    ileti("title", "set", "acme", "NOPE", "active", ok=False)
    assert listing("title", "list", "acme") == [
        {"title": "ACME", "status": "inactive"},
        {"title": "Acme", "status": "active"},
        {"title": "Acme-Shop 1", "status": "pending"},
    ]


def test_prices_for_international_destinations() -> None:
    ileti("price", "set", "de", "1.25")
    ileti("price", "set", "*", "3")
    ileti("price", "set", "TR", "1", ok=False)
    ileti("price", "set", "XYZ", "1", ok=False)
    ileti("price", "set", "FR", "1.234", ok=False)
    table = {row["region"]: row for row in listing("price", "list")}
    assert table["DE"] == {"region": "DE", "try_per_segment": "1.25", "source": "operator"}
    assert table["*"]["try_per_segment"] == "3.00"
    assert table["US"]["source"] == "shipped"
    ileti("price", "reset", "DE")
    assert {row["region"]: row for row in listing("price", "list")}["DE"]["source"] == "shipped"


def test_tables_never_cut_identifiers() -> None:
    """At 80 columns, a wide row shrinks its other columns: the key prefix the other commands
    take, and an account's name, stay whole on one line."""
    name = "acme-anonim-sirketi-istanbul"
    ileti("account", "create", name, "--credits", "1000000", "--international", "12345.67")
    for _ in range(2):
        ileti(
            "key", "create", name, "--allow-ip", "10.0.0.0/8", "--allow-ip", "192.168.100.0/24",
            "--allow-ip", "2001:db8:1234::/48", "--per-minute", "100000",
        )  # fmt: skip
    table = ileti("key", "list", name)
    for row in listing("key", "list", name):
        assert row["prefix"] in table
    assert name in ileti("account", "list")
    assert name in ileti("key", "list", name)  # the title, too


def test_blacklist_from_the_command_line() -> None:
    ileti("account", "create", "acme")
    assert "905321234567" in ileti("blacklist", "add", "acme", "0532 123 45 67")
    ileti("blacklist", "add", "acme", "+90 533 765 43 21")
    ileti("blacklist", "add", "acme", "905321234567")  # again: changes nothing
    listed = listing("blacklist", "list", "acme")
    assert [(row["number"], row["scope"]) for row in listed] == [
        ("905337654321", "all"),
        ("905321234567", "all"),
    ]
    assert "905337654321" in ileti("blacklist", "list", "acme")
    ileti("blacklist", "remove", "acme", "905321234567")
    assert [row["number"] for row in listing("blacklist", "list", "acme")] == ["905337654321"]
    # Refusals say why, and change nothing.
    not_listed = ileti("blacklist", "remove", "acme", "905321234567", ok=False)
    assert "TS-1039" in not_listed and "not on the account's blacklist" in not_listed
    assert "TS-1034" in ileti("blacklist", "add", "acme", "12", ok=False)
    unknown = ileti("blacklist", "add", "nobody", "905321234567", ok=False)
    assert "no account named 'nobody'" in unknown
    assert [row["number"] for row in listing("blacklist", "list", "acme")] == ["905337654321"]
