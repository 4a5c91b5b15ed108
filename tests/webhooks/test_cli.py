"""The operator's webhook commands, run as an operator runs them, on a real database."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from ileti.cli import app
from ileti.config import get_settings
from ileti.domain.clock import utcnow
from ileti.domain.webhooks import EventType, make_event
from ileti.store import keys
from ileti.store import webhooks as outbox
from ileti.store.db import open_database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _database(database_target, tmp_path, monkeypatch: pytest.MonkeyPatch):
    for name, value in database_target.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ILETI_WEBHOOK_ALLOW_PRIVATE", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def ileti(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.fixture
def key() -> str:
    ileti("account", "create", "acme")
    return last_line(ileti("key", "create", "acme"))


def test_set_show_and_rotate(key: str) -> None:
    secret = last_line(
        ileti("webhook", "set", key, "--url", "http://127.0.0.1:9/hook", "--retries", "5")
    )
    assert secret.startswith("whsec_")
    [shown] = json.loads(last_line(ileti("webhook", "show", key[:14], "--json")))
    assert shown["url"] == "http://127.0.0.1:9/hook"
    assert shown["attempts"] == 5 and shown["enabled"] is True
    assert shown["secret"] == secret[:10] + "…"
    assert shown["backoff"] == "5,300,1800,7200,18000,36000,36000"

    # Changing the URL keeps the secret (and does not print it again).
    output = ileti("webhook", "set", key, "--url", "https://hooks.example.com/in", "--off")
    assert "whsec_" not in output
    [shown] = json.loads(last_line(ileti("webhook", "show", key, "--json")))
    assert shown["enabled"] is False and shown["secret"] == secret[:10] + "…"

    new = last_line(ileti("webhook", "rotate-secret", key))
    assert new.startswith("whsec_") and new != secret
    [shown] = json.loads(last_line(ileti("webhook", "show", key, "--json")))
    assert shown["secret"] == new[:10] + "…"
    assert shown["previous_secret_until"] is not None


def test_given_secret_events_and_backoff(key: str) -> None:
    given = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
    output = ileti(
        "webhook", "set", key, "--url", "http://127.0.0.1:9/", "--secret", given,
        "--events", "sms.delivered,sms.failed", "--backoff", "1,2",
    )  # fmt: skip
    assert last_line(output) == given
    [shown] = json.loads(last_line(ileti("webhook", "show", key, "--json")))
    assert shown["events"] == ["sms.delivered", "sms.failed"]
    assert shown["backoff"] == "1,2"
    ileti("webhook", "set", key, "--secret", "nope", ok=False)
    ileti("webhook", "set", key, "--events", "sms.lost", ok=False)


def test_unsafe_urls_are_refused(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ILETI_WEBHOOK_ALLOW_PRIVATE", "0")
    get_settings.cache_clear()
    for url in ("http://127.0.0.1/hook", "http://169.254.169.254/", "ftp://example.com/"):
        assert "refused" in ileti("webhook", "set", key, "--url", url, ok=False)
    ileti("webhook", "show", key, ok=False)


def test_a_private_url_refused_says_what_to_set_for_the_command(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server may allow private receivers; the command checks with its own settings, so
    the operator sets it there too."""
    monkeypatch.setenv("ILETI_WEBHOOK_ALLOW_PRIVATE", "0")
    get_settings.cache_clear()
    refused = " ".join(
        ileti("webhook", "set", key, "--url", "http://127.0.0.1:9911/hook", ok=False).split()
    )
    assert "ILETI_WEBHOOK_ALLOW_PRIVATE=1" in refused
    assert "this command" in refused
    # A URL refused for another reason names no setting that would not help.
    assert "ILETI_WEBHOOK_ALLOW_PRIVATE" not in ileti(
        "webhook", "set", key, "--url", "ftp://example.com/", ok=False
    )
    monkeypatch.setenv("ILETI_WEBHOOK_ALLOW_PRIVATE", "1")
    get_settings.cache_clear()
    assert last_line(ileti("webhook", "set", key, "--url", "http://127.0.0.1:9911/hook"))


def test_set_tells_the_truth_about_when_it_prints_a_secret(key: str) -> None:
    help_text = " ".join(ileti("webhook", "set", "--help").split())
    assert "A new secret is printed on the last line, once." not in help_text
    assert "--secret" in help_text and "rotate-secret" in help_text
    # As it says: the first set prints the secret it made, a later one prints none, and one
    # that gives --secret prints that.
    made = ileti("webhook", "set", key, "--url", "http://127.0.0.1:9/hook")
    assert last_line(made).startswith("whsec_")
    assert "whsec_" not in ileti("webhook", "set", key, "--retries", "3")
    given = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
    assert last_line(ileti("webhook", "set", key, "--secret", given)) == given


def test_failures_and_replay(key: str) -> None:
    ileti("webhook", "set", key, "--url", "http://127.0.0.1:9/hook")

    async def dead_events() -> list[str]:
        db = open_database(get_settings())
        try:
            async with db.write() as conn:
                record = await keys.find_key(conn, key)
                made = [
                    make_event(record.id, EventType.SMS_SENT, {"sms_id": i}, utcnow())
                    for i in range(3)
                ]
                await outbox.add(conn, made)
                await outbox.record(
                    conn,
                    [
                        outbox.Attempt(e.id, 1, e.created_ms, 500, 3, "HTTP 500", False, None)
                        for e in made
                    ],
                )
                return [e.id for e in made]
        finally:
            await db.close()

    ids = asyncio.run(dead_events())
    listed = json.loads(last_line(ileti("webhook", "failures", "--key", key, "--json")))
    assert {row["event_id"] for row in listed} == set(ids)
    assert all(row["last_status_code"] == 500 for row in listed)
    assert "1 event(s)" in ileti("webhook", "replay", "--event", ids[0])
    assert "2 event(s)" in ileti("webhook", "replay", "--key", key, "--since", "2000-01-01")
    assert json.loads(last_line(ileti("webhook", "failures", "--json"))) == []
    assert "0 event(s)" in ileti("webhook", "replay", "--until", "2000-01-01")
    ileti("webhook", "replay", ok=False)
