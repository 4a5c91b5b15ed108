"""``ileti account set --iys-…`` and ``ileti iys``, run as an operator runs them, on a real
database, with ``ileti iys-sim`` as İYS."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ileti.cli import app
from ileti.config import get_settings
from ileti.domain.consent import iys_date
from ileti.store.db import open_database
from ileti.store.sql import Raw

runner = CliRunner()
_PASSWORD = Raw("SELECT password FROM iys_settings")


@pytest.fixture(autouse=True)
def _database(database_target, tmp_path, monkeypatch: pytest.MonkeyPatch):
    for name, value in database_target.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "160")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def iys_sim() -> Iterator[str]:
    """``ileti iys-sim`` on a free port; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "ileti", "iys-sim", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(f"{url}/oauth2/token", json={}, timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the İYS simulator did not start"
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def ileti(*args: str, ok: bool = True, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


def _set_up(url: str = "http://127.0.0.1:9", mode: str = "enforce") -> str:
    return ileti(
        "account", "set", "acme",
        "--iys-url", url, "--iys-code", "700123", "--iys-brand", "800456",
        "--iys-username", "brand", "--iys-password-stdin", "--iys-mode", mode,
        stdin="correct horse battery\n",
    )  # fmt: skip


def _show() -> dict:
    return json.loads(ileti("iys", "show", "acme", "--json").strip().splitlines()[-1])[0]


def _stored_password() -> str:
    async def read() -> str:
        db = open_database(get_settings())
        try:
            async with db.read() as conn:
                row = await _PASSWORD.first(conn)
                assert row is not None
                return str(row["password"])
        finally:
            await db.close()

    return asyncio.run(read())


def test_iys_settings_are_set_without_the_password_in_argv_and_kept_sealed() -> None:
    ileti("account", "create", "acme")
    missing = ileti("account", "set", "acme", "--iys-mode", "enforce", ok=False)
    assert "--iys-url" in missing and "--iys-password" in missing
    ileti("iys", "show", "acme", ok=False)
    output = _set_up()
    assert "correct horse" not in output
    shown = _show()
    assert (shown["brand_code"], shown["mode"], shown["username"]) == ("800456", "enforce", "brand")
    assert "correct horse" not in json.dumps(shown)
    stored = _stored_password()
    assert stored.startswith("sealed:") and "correct" not in stored
    # One setting changes alone; the password stays.
    ileti("account", "set", "acme", "--iys-mode", "off")
    assert _show()["mode"] == "off"
    assert _stored_password() == stored
    bad = ileti("account", "set", "acme", "--iys-mode", "sometimes", ok=False)
    assert "iys_mode" in bad


def test_a_password_from_a_file(tmp_path: Path) -> None:
    ileti("account", "create", "acme")
    secret = tmp_path / "iys.password"
    secret.write_text("from-a-file\n")
    ileti(
        "account", "set", "acme", "--iys-url", "https://api.sandbox.iys.org.tr",
        "--iys-code", "1", "--iys-brand", "2", "--iys-username", "u",
        "--iys-password-file", str(secret),
    )  # fmt: skip
    assert _show()["mode"] == "off"
    both = ileti(
        "account", "set", "acme", "--iys-password-file", str(secret), "--iys-password-stdin",
        ok=False, stdin="x\n",
    )  # fmt: skip
    assert "not both" in both


def test_a_file_of_consents_is_imported_each_bad_row_named(tmp_path: Path) -> None:
    ileti("account", "create", "acme")
    _set_up()
    when = iys_date(datetime.now(UTC) - timedelta(days=3))
    lines = [
        "Ad;Telefon;Durum;Kaynak;İzin Tarihi",
        f"Ayşe;0532 123 45 67;Onay;HS_WEB;{when}",
        f"Mehmet;05321234568;RET;HS_WEB;{when}",  # a first record cannot be RET
        "Şule;05321234569;ONAY;HS_WEB;15.03.2024 14:30",
        "Çağrı;0212 123 45 67;ONAY;HS_WEB;2024-03-15",  # a landline
        "İsmail;05321234570;ONAY;;2024-03-15",  # no source
    ]
    file = tmp_path / "izinler.csv"
    file.write_bytes("\r\n".join(lines).encode("cp1254"))
    output = ileti("iys", "import", "acme", str(file), "--json")
    result = json.loads(output.strip().splitlines()[-1])
    assert result["accepted"] == 2
    assert [(r["row"], r["code"]) for r in result["rejected"]] == [
        (3, "H109"),
        (5, "H101"),
        (6, "H113"),
    ]
    assert _show()["records_pending"] == 2
    table = ileti("iys", "import", "acme", str(file), ok=False)  # all refused now
    assert "H110" in table and "0 records kept" in table


def test_sync_pushes_at_once_and_says_when_iys_cannot_be_reached(
    iys_sim: str, tmp_path: Path
) -> None:
    ileti("account", "create", "acme")
    _set_up(iys_sim)
    file = tmp_path / "consents.csv"
    when = iys_date(datetime.now(UTC) - timedelta(days=1))
    file.write_text(f"telefon,durum,kaynak,izin tarihi\n05321234567,ONAY,HS_WEB,{when}\n")
    ileti("iys", "import", "acme", str(file))
    report = json.loads(ileti("iys", "sync", "--json").strip().splitlines()[-1])
    assert report == [
        {
            "account_id": 1,
            "pushed": 1,
            "synced": 1,
            "failed": 0,
            "waiting": 0,
            "pulled": 0,
            "error": None,
        }
    ]
    shown = _show()
    assert shown["records_synced"] == 1 and shown["pulled_at"] is not None
    ileti("account", "set", "acme", "--iys-url", "http://127.0.0.1:9")
    down = ileti("iys", "sync", "--account", "acme", ok=False)
    assert "error" in down
