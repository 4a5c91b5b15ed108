"""Secrets at rest: webhook secrets sealed in the database, OTP code hashes keyed from outside
it; a copy of the database alone recovers neither, and every process that shares a database
needs the same ``ILETI_SECRET_KEY``."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import sqlite3
import stat
import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from standardwebhooks import Webhook

from ileti.accounts.accounts import AccountChange
from ileti.accounts.webhooks import WebhookChange
from ileti.config import Settings
from ileti.services import Services
from ileti.store.db import Database
from ileti.store.keyring import KEY_FILE, SecretKeyError
from support.api import serving
from support.clock import ManualClock
from support.receiver import Receiver
from support.server import ILETI, free_port, serve_demo

NUMBER = "905321234567"
SECRET_KEY = "a-secret-key-the-operator-gives-every-process-0123456789"


def _settings(db: Database, **overrides: object) -> Settings:
    return Settings(database_url=db.url, database_schema=db.schema, **overrides)  # type: ignore[arg-type]


async def _customer(services: Services) -> str:
    """An account 'acme' with an OTP title, and a key for it."""
    await services.accounts.open("acme", credits=100)
    await services.accounts.add_title("acme", "ACME", active=True)
    await services.accounts.change("acme", AccountChange(otp_title="ACME"))
    key, _ = await services.keys.create("acme")
    return key


async def _otp(client: httpx.AsyncClient, key: str, number: str = NUMBER) -> tuple[str, str]:
    reply = (await client.post("/otp/send", json={"api_key": key, "mobile": number})).json()
    assert reply["result_code"] == "TS-1024", reply
    return reply["otp_id"], reply["otp_code"]


async def _verify(client: httpx.AsyncClient, key: str, otp_id: str, code: str) -> str:
    body = {"api_key": key, "otp_id": otp_id, "code": code}
    return (await client.post("/otp/verify", json=body)).json()["result_code"]


async def test_webhook_secrets_are_stored_sealed_and_shown_masked(db: Database, tmp_path) -> None:
    services = Services.create(_settings(db, data_dir=tmp_path, webhook_allow_private=True), db)
    key = await _customer(services)
    _, secret = await services.webhooks.configure(key, WebhookChange(url="http://127.0.0.1:9/"))
    assert secret is not None
    rotated = await services.webhooks.rotate_secret(key, 3600)
    async with db.read() as conn:
        stored = str((await conn.execute(text("SELECT webhook FROM api_keys"))).scalar())
    assert secret not in stored and rotated not in stored
    assert secret.removeprefix("whsec_") not in stored
    assert (await services.webhooks.state(key)).secret_shown == rotated[:10] + "…"
    # No setting names a key: a key file in the data directory, for its owner only.
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_a_copy_of_the_database_alone_recovers_no_webhook_secret_and_no_otp_code(
    sqlite_db: Database, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The key file where it goes by default: beside the database file.
    monkeypatch.delenv("ILETI_DATA_DIR")
    home = Path(sqlite_db.url.removeprefix("sqlite+aiosqlite:///")).parent
    clock = ManualClock()
    async with serving(sqlite_db, clock, webhook_allow_private=True) as (client, services):
        key = await _customer(services)
        _, secret = await services.webhooks.configure(key, WebhookChange(url="http://127.0.0.1:9/"))
        assert secret is not None
        otp_id, code = await _otp(client, key)
    key_text = (home / KEY_FILE).read_text().strip()

    # The database file, copied whole, without the key file beside it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = elsewhere / "ileti.db"
    original = home / "ileti.db"
    with closing(sqlite3.connect(original)) as source, closing(sqlite3.connect(copy)) as to:
        source.backup(to)
    content = copy.read_bytes()
    for kept_out in (secret, secret.removeprefix("whsec_"), key_text):
        assert kept_out.encode() not in content

    copied = Database(f"sqlite+aiosqlite:///{copy}")
    try:
        async with serving(copied, clock, webhook_allow_private=True) as (other, thief):
            # Whatever key it makes for itself opens nothing and matches no code.
            state = await thief.webhooks.state(key)
            assert state.secret_shown == "(sealed with another secret key)"
            with pytest.raises(SecretKeyError):
                thief.keyring.open(state.config.secret)
            assert await _verify(other, key, otp_id, code) == "TS-1042"
    finally:
        await copied.close()
    # With its key file, the installation itself verifies the very same code.
    async with serving(sqlite_db, clock) as (client, _):
        assert await _verify(client, key, otp_id, code) == "TS-1064"


async def test_a_second_process_with_the_same_secret_key_verifies_codes_and_signs_events(
    db: Database, database_target, tmp_path
) -> None:
    env = {
        **database_target.env(),
        "ILETI_SECRET_KEY": SECRET_KEY,
        "ILETI_DATA_DIR": str(tmp_path / "second"),
        "ILETI_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    second = serve_demo(tmp_path, env)
    try:
        with Receiver() as receiver:
            clock = ManualClock()
            first = {"secret_key": SECRET_KEY, "data_dir": tmp_path / "first"}
            async with serving(db, clock, webhook_allow_private=True, **first) as (client, one):
                otp_id, code = await _otp(client, second.key)
                _, secret = await one.webhooks.configure(
                    second.key, WebhookChange(url=receiver.url)
                )
                assert secret is not None
                test = await client.post("/webhook/test", json={"api_key": second.key})
                assert test.json()["result_code"] == "TS-1064"
            # The other process verifies the code this one issued...
            verify = {"api_key": second.key, "otp_id": otp_id, "code": code}
            async with httpx.AsyncClient(base_url=second.base_url) as other:
                answer = (await other.post("/otp/verify", json=verify)).json()
            assert answer["result_code"] == "TS-1064", answer
            # ...and signs the event this one queued, with the secret this one sealed.
            wanted = {b"key.test", b"otp.verified"}
            deadline = time.monotonic() + 30
            while not all(any(w in r.body for r in receiver.requests()) for w in wanted):
                assert time.monotonic() < deadline, second.log()
                await asyncio.sleep(0.05)
            for request in receiver.requests():
                assert Webhook(secret).verify(request.body, request.headers)
                digest = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
                assert f"sha256={digest}" in request.headers["x-turkeysms-signature"].split(", ")

        # A process with a key of its own (no setting, its own key file) verifies nothing.
        async with serving(db, clock, **first) as (client, _):
            otp_id, code = await _otp(client, second.key, "905321234568")
        async with serving(db, clock, data_dir=tmp_path / "third") as (client, _):
            assert await _verify(client, second.key, otp_id, code) == "TS-1042"
    finally:
        second.stop()


def _start_api(env: dict[str, str], cwd: Path) -> str:
    """``ileti api`` started and stopped again: what it wrote on stderr."""
    port = free_port()
    log = cwd / f"api-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*ILETI, "api", "--port", str(port)],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return log.read_text()


def test_the_start_warns_when_a_shared_database_has_no_secret_key(
    database_target, tmp_path
) -> None:
    env = {**database_target.env(), "ILETI_DATA_DIR": str(tmp_path)}
    unset = _start_api(env, tmp_path)
    given = _start_api({**env, "ILETI_SECRET_KEY": SECRET_KEY}, tmp_path)
    assert "ILETI_SECRET_KEY" not in given
    if database_target.backend == "postgres":
        assert "secret_key_not_set" in unset
        assert "set ILETI_SECRET_KEY to the same value" in unset
    else:
        # One SQLite file is shared only by processes of one machine, with one data directory.
        assert "secret_key_not_set" not in unset
