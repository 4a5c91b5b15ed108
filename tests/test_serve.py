"""The gateway as a newcomer runs it: ``ileti serve --demo``, called over real HTTP."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from turkeysms import TurkeySmsClient

from ileti.domain.keys import PREFIX_LENGTH
from support.server import ServedGateway, run_ileti, serve_demo

T = TypeVar("T")
FINAL = {"delivered", "failed", "expired"}


def _until(read: Callable[[], T], done: Callable[[T], bool], within: float = 30.0) -> T:
    """What ``read`` returns once ``done`` holds of it; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not done(value := read()):
        assert time.monotonic() < deadline, f"gave up waiting; last read {value!r}"
        time.sleep(0.05)
    return value


def test_official_sdk_gets_its_balance(served: ServedGateway) -> None:
    client = TurkeySmsClient(served.key)
    client.BASE_URL = served.base_url + "/"
    reply = client.get_balance()
    assert reply["result"] is True
    assert reply["result_code"] == "TS-1040"
    assert reply["balance"]["main"] == 1000


def test_demo_prints_a_working_curl_example(served: ServedGateway) -> None:
    assert f"curl -s {served.base_url}/balance" in served.stdout
    assert served.key in served.stdout


def test_logs_are_json_with_request_ids_and_never_a_full_key(served: ServedGateway) -> None:
    wrong = served.key[:PREFIX_LENGTH] + "_" + "Q" * 43
    request_ids = []
    for key in (served.key, wrong, "x" * 300):
        response = httpx.post(f"{served.base_url}/auth/check", json={"api_key": key})
        assert response.headers["x-request-id"]
        request_ids.append(response.headers["x-request-id"])
    # A request's line is written as it ends, maybe after its answer reached us.
    log = _until(served.log, lambda text: all(rid in text for rid in request_ids))
    assert served.key not in log
    assert wrong not in log
    assert "x" * 300 not in log
    assert served.key[:PREFIX_LENGTH] in log


def test_metrics_count_requests_by_endpoint_and_code(served: ServedGateway) -> None:
    httpx.post(f"{served.base_url}/balance", json={"api_key": served.key})
    httpx.post(f"{served.base_url}/balance", content=b"[")
    metrics = httpx.get(f"{served.base_url}/metrics").text
    assert 'ileti_http_requests_total{code="TS-1040",endpoint="/balance"}' in metrics
    assert 'ileti_http_requests_total{code="TS-1033",endpoint="/balance"}' in metrics
    assert 'ileti_http_request_seconds_bucket{endpoint="/balance"' in metrics


def _metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_messages_on_their_way_and_finished(served: ServedGateway) -> None:
    delivered = 'ileti_messages_finished_total{state="delivered"}'
    before = _metric(httpx.get(f"{served.base_url}/metrics").text, delivered)
    client = TurkeySmsClient(served.key)
    client.BASE_URL = served.base_url + "/"
    sent = [client.send_sms("ILETI", f"90532765432{i}", "Sayaç") for i in range(3)]
    assert all(reply["result_code"] == "TS-1024" for reply in sent), sent
    for reply in sent:
        assert _wait_for_status(client, reply["sms_id"], "delivered")["status"] == "delivered"
    metrics = httpx.get(f"{served.base_url}/metrics").text
    assert _metric(metrics, delivered) == before + 3
    # In flight, read from the database every few seconds: nothing is left on its way.
    metrics = _until(
        lambda: httpx.get(f"{served.base_url}/metrics").text,
        lambda text: (
            'ileti_messages{state="queued"}' in text
            and not _metric(text, 'ileti_messages{state="sent"}')
        ),
    )
    assert 'ileti_messages{state="delivered"}' not in metrics
    assert "ileti_queue_depth 0.0" in metrics


def test_revocation_from_the_cli_reaches_the_running_server(served: ServedGateway) -> None:
    made = run_ileti(["key", "create", "demo"], served.env, served.cwd)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    url = f"{served.base_url}/balance"
    assert httpx.post(url, json={"api_key": key}).json()["result_code"] == "TS-1040"
    revoked = run_ileti(["key", "revoke", key[:PREFIX_LENGTH]], served.env, served.cwd)
    assert revoked.returncode == 0, revoked.stderr
    # The server keeps a verified key for a moment: it is refused once that has lapsed.
    answer = _until(
        lambda: httpx.post(url, json={"api_key": key}).json()["result_code"],
        lambda code: code != "TS-1040",
    )
    assert answer == "TS-1031"


def test_a_forwarded_for_header_does_not_pass_an_ip_allowlist(served: ServedGateway) -> None:
    """Without ILETI_TRUST_FORWARDED_FOR the caller is the socket's address, whatever a client
    claims in X-Forwarded-For (the server in front must not rewrite it either)."""
    made = run_ileti(
        ["key", "create", "demo", "--allow-ip", "203.0.113.7/32"], served.env, served.cwd
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    response = httpx.post(
        f"{served.base_url}/balance",
        json={"api_key": key},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.json()["result_code"] == "TS-1041"


def test_demo_is_created_once_and_keeps_its_key_across_restarts(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the demo key goes by default: no ILETI_DATA_DIR.
    monkeypatch.delenv("ILETI_DATA_DIR")
    env = {"ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ileti.db'}"}
    first = serve_demo(tmp_path, env)
    first.stop()
    second = serve_demo(tmp_path, env)
    try:
        # The saved examples keep working: the same key, printed again.
        assert second.key == first.key
        assert second.key in second.stdout
        url = f"{second.base_url}/balance"
        assert httpx.post(url, json={"api_key": second.key}).json()["balance"]["main"] == 1000
        listed = run_ileti(["account", "list", "--json"], env, tmp_path)
        assert listed.stdout.count('"name": "demo"') == 1
        keys = run_ileti(["key", "list", "demo", "--json"], env, tmp_path)
        assert keys.stdout.count('"status": "active"') == 1
        # Kept in the data directory (beside the database file), for its owner only.
        where = re.search(r"kept in (\S+)\)", second.stdout)
        assert where is not None, second.stdout
        kept = tmp_path / where.group(1)
        assert kept.parent == tmp_path and kept.read_text().strip() == second.key
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        # The panel's owner keeps their password too, and it logs in.
        logins = [re.search(r"password:\s+(\S+)", run.stdout) for run in (first, second)]
        assert logins[0] and logins[1] and logins[0].group(1) == logins[1].group(1)
        assert f"{second.base_url}/panel/" in second.stdout
        with httpx.Client(base_url=second.base_url) as browser:
            page = browser.get("/panel/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token is not None
            answer = browser.post(
                "/panel/login",
                data={
                    "csrf": token.group(1),
                    "email": "demo@example.com",
                    "password": logins[1].group(1),
                },
            )
            assert answer.status_code == 303 and answer.headers["location"] == "/panel/"
            assert 'data-testid="balance-main">1.000<' in browser.get("/panel/").text
    finally:
        second.stop()


def test_a_revoked_demo_key_is_replaced_at_the_next_start(tmp_path) -> None:
    env = {"ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ileti.db'}"}
    first = serve_demo(tmp_path, env)
    first.stop()
    assert run_ileti(["key", "revoke", first.key], env, tmp_path).returncode == 0
    second = serve_demo(tmp_path, env)
    try:
        assert second.key != first.key
        url = f"{second.base_url}/balance"
        assert httpx.post(url, json={"api_key": second.key}).json()["result_code"] == "TS-1040"
    finally:
        second.stop()


def test_the_demo_curl_lines_send_then_ask_for_that_status_a_second_later(
    served: ServedGateway,
) -> None:
    """Pasted into a shell as printed: the status asked for is the sent message's, after a
    pause (no sms_id to copy by hand, none that a restart made stale)."""
    lines = [line.strip() for line in served.stdout.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "/sms/send" in line)
    status = next(i for i, line in enumerate(lines) if "/sms/status" in line)
    assert start < status
    assert lines[status].startswith("sleep 1")
    script = "\n".join(lines[start : status + 1])
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    sent, asked = (json.loads(line) for line in ran.stdout.strip().splitlines()[-2:])
    assert sent["result_code"] == "TS-1024", sent
    assert asked["result_code"] == "TS-1064", asked
    assert asked["sms_id"] == sent["sms_id"]


def test_a_message_sent_with_the_sdk_is_delivered_within_seconds(served: ServedGateway) -> None:
    client = TurkeySmsClient(served.key)
    client.BASE_URL = served.base_url + "/"
    sent = client.send_sms("ILETI", "905321234567", "Merhaba, ileti!")
    assert sent["result_code"] == "TS-1024", sent
    reply = _wait_for_status(client, sent["sms_id"], "delivered")
    assert reply["result_code"] == "TS-1064", reply
    assert reply["status"] == "delivered"
    assert reply["sentto"] == "905321234567"
    assert reply["number_of_sms"] == 1


def _wait_for_status(client: TurkeySmsClient, sms_id: int, wanted: str) -> dict:
    """The message's status reply once it reads ``wanted``, or whatever stops it from ever
    doing so (a final state other than it, or an error)."""

    def settled(reply: dict) -> bool:
        status = reply.get("status")
        return status == wanted or reply.get("result_code") != "TS-1064" or status in FINAL

    return _until(lambda: client.get_sms_status(sms_id), settled)


def test_otps_sent_with_the_sdk_arrive_verify_once_and_leave_no_code_behind(
    served: ServedGateway,
) -> None:
    client = TurkeySmsClient(served.key)
    client.BASE_URL = served.base_url + "/"
    plain = client.send_otp("905321230001", lang=1)
    assert plain["result_code"] == "TS-1024", plain
    assert len(plain["otp_code"]) == 4 and plain["sms_lang"] == "Turkish"
    detailed = client.send_detailed_otp("ILETI", "905321230002", "Kodunuz TS-CODE", lang=1)
    assert detailed["result_code"] == "TS-1024", detailed
    assert len(detailed["otp_code"]) == 6
    for sent in (plain, detailed):
        assert _wait_for_status(client, sent["sms_id"], "delivered")["status"] == "delivered"
        verify = f"{served.base_url}/otp/verify"
        body = {"api_key": served.key, "otp_id": sent["otp_id"], "code": sent["otp_code"]}
        assert httpx.post(verify, json=body).json()["result_code"] == "TS-1064"
        assert httpx.post(verify, json=body).json()["result_code"] == "TS-1043"
    # Once sent, the stored texts hold the codes no more.
    database = Path(served.env["ILETI_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))
    with closing(sqlite3.connect(database)) as conn:
        texts = dict(conn.execute("SELECT id, text FROM messages WHERE kind = 'otp'").fetchall())
    assert texts[detailed["sms_id"]] == "Kodunuz ••••••"
    assert plain["otp_code"] not in texts[plain["sms_id"]]
    assert "••••" in texts[plain["sms_id"]]
