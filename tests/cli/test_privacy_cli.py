"""``ileti privacy``: a KVKK export as JSON, an erasure that asks first and says what it changed,
run as an operator runs them, on a real database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ileti.cli import app
from ileti.config import get_settings

runner = CliRunner()
NUMBER = "905321234567"


@pytest.fixture(autouse=True)
def _database(database_target, tmp_path, monkeypatch: pytest.MonkeyPatch):
    for name, value in database_target.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def ileti(*args: str, ok: bool = True, answer: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=answer)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def listed(account: str) -> list[str]:
    return [row["number"] for row in json.loads(ileti("blacklist", "list", account, "--json"))]


@pytest.fixture
def accounts() -> None:
    for name in ("acme", "globex"):
        ileti("account", "create", name)
        ileti("blacklist", "add", name, "0532 123 45 67")


def test_export_prints_what_each_account_keeps_as_json(accounts: None) -> None:
    exported = json.loads(ileti("privacy", "export", "+90 532 123 45 67"))
    assert exported["number"] == NUMBER
    assert [a["account"] for a in exported["accounts"]] == ["acme", "globex"]
    assert [b["number"] for b in exported["accounts"][0]["blacklist"]] == [NUMBER]
    only = json.loads(ileti("privacy", "export", NUMBER, "--account", "globex"))
    assert [a["account"] for a in only["accounts"]] == ["globex"]


def test_erase_asks_first_and_changes_nothing_when_told_no(accounts: None) -> None:
    output = ileti("privacy", "erase", NUMBER, answer="n\n", ok=False)
    assert "Erase 905321234567 from every account?" in output
    assert listed("acme") == listed("globex") == [NUMBER]


def test_erase_says_what_it_changed_and_keeps_the_refusal(accounts: None) -> None:
    output = ileti("privacy", "erase", NUMBER, "--account", "acme", answer="y\n")
    assert "messages: 0" in output and "contacts: 0" in output
    assert "consent records and the blacklist" in output
    # The number is still refused: an erasure never lets a message through.
    assert listed("acme") == listed("globex") == [NUMBER]
    # The same number gives the same hash, which the export names.
    exported = json.loads(ileti("privacy", "export", NUMBER, "--account", "acme"))
    assert exported["erased_as"].startswith("x") and len(exported["erased_as"]) == 17
    again = json.loads(ileti("privacy", "export", NUMBER, "--account", "globex"))
    assert again["erased_as"] == exported["erased_as"]


def test_an_unknown_account_or_a_non_number_is_an_error(accounts: None) -> None:
    assert "nobody" in ileti("privacy", "export", NUMBER, "--account", "nobody", ok=False)
    assert "TS-1034" in ileti("privacy", "erase", "12", "--yes", ok=False)
