"""``ileti user``: panel users made, listed, given new passwords and removed by the operator;
each password works at the panel's login, once shown, and the old one stops working."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from ileti.access.logins import LoginRefused, Stage
from ileti.cli import app
from ileti.config import get_settings
from ileti.services import Services
from ileti.store.db import open_database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _database(database_target, tmp_path, monkeypatch: pytest.MonkeyPatch):
    for name, value in database_target.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def ileti(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def logs_in(email: str, password: str) -> bool:
    async def attempt() -> bool:
        settings = get_settings()
        db = open_database(settings)
        try:
            visit = await Services.create(settings, db).logins.password(email, password, "10.0.0.1")
            return visit.stage == Stage.IN
        except LoginRefused:
            return False
        finally:
            await db.close()

    return asyncio.run(attempt())


def test_a_user_is_added_listed_reset_and_removed() -> None:
    ileti("account", "create", "acme")
    out = ileti("user", "add", "acme", "Ayse@Acme.test", "--role", "owner")
    password = out.strip().splitlines()[-1]
    assert "ayse@acme.test" in out and password not in out.splitlines()[0]
    assert logs_in("ayse@acme.test", password)

    member = ileti("user", "add", "acme", "mehmet@acme.test").strip().splitlines()[-1]
    listed = json.loads(ileti("user", "list", "acme", "--json"))
    assert [(u["email"], u["role"]) for u in listed] == [
        ("ayse@acme.test", "owner"),
        ("mehmet@acme.test", "member"),
    ]

    new = ileti("user", "reset-password", "mehmet@acme.test").strip().splitlines()[-1]
    assert new != member
    assert not logs_in("mehmet@acme.test", member)
    assert logs_in("mehmet@acme.test", new)

    ileti("user", "remove", "mehmet@acme.test")
    assert not logs_in("mehmet@acme.test", new)
    # The last owner stays.
    assert "last owner" in ileti("user", "remove", "ayse@acme.test", ok=False)


def test_refusals_are_clear_and_change_nothing() -> None:
    ileti("account", "create", "acme")
    assert "no account named 'nobody'" in ileti("user", "add", "nobody", "x@acme.test", ok=False)
    assert "not an email" in ileti("user", "add", "acme", "not-an-email", ok=False)
    ileti("user", "add", "acme", "x@acme.test")
    assert "exists" in ileti("user", "add", "acme", "X@acme.test", ok=False)
    assert json.loads(ileti("user", "list", "acme", "--json"))[0]["email"] == "x@acme.test"
    assert "no such user" in ileti("user", "reset-password", "y@acme.test", ok=False)
