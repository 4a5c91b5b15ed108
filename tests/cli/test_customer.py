"""The customer's commands against a real ``ileti serve --demo``, over HTTP only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from support.server import ServedGateway, free_port, run_ileti

TITLE = "ILETI"
ISTANBUL = ZoneInfo("Europe/Istanbul")
FILE = (
    "Ad;Telefon;Tutar\n"
    "Ayşe Yılmaz;0532 111 22 33;150,75\n"
    "Çağrı Öztürk;+90 533 444 55 66;89\n"
    "İsmail Şen;12345;10\n"
    "Ayşe Yılmaz;05321112233;150,75\n"
)
TEMPLATE = "Sayın {Ad}, {Tutar} TL borcunuz bulunmaktadır."


def customer(
    served: ServedGateway, *args: str, ok: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``ileti`` as a customer runs it: the gateway's address and key come from the environment."""
    ran = run_ileti(
        list(args),
        # Wide enough that a table's messages are not folded.
        {
            "ILETI_URL": served.base_url,
            "ILETI_API_KEY": served.key,
            "COLUMNS": "200",
            **(env or {}),
        },
        served.cwd,
    )
    assert (ran.returncode == 0) is ok, ran.stdout + ran.stderr
    assert served.key not in ran.stdout + ran.stderr
    return ran


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "müşteriler.csv"
    path.write_text(FILE, encoding="utf-8")
    return path


def test_send_to_one_number_and_to_several(served: ServedGateway) -> None:
    one = customer(served, "send", "--title", TITLE, "--text", "Merhaba", "05321234567", "--json")
    [single] = json.loads(one.stdout)
    assert single["sms_id"] > 0 and single["success_count"] == 1

    many = customer(
        served, "send", "--title", TITLE, "--text", "Merhaba", "05321234567", "05331234567"
    )
    assert "group_id" in many.stdout and "total_recipients" in many.stdout


def test_a_refusal_shows_its_code_and_exits_1(served: ServedGateway) -> None:
    ran = customer(served, "send", "--title", "NOSUCH", "--text", "x", "05321234567", ok=False)
    assert "TS-" in ran.stderr
    ran = customer(
        served,
        "send",
        "--title",
        TITLE,
        "--text",
        "x",
        "0532",
        env={"ILETI_API_KEY": "bad"},
        ok=False,
    )
    assert "TS-" in ran.stderr


def test_an_unreachable_gateway_and_a_missing_key_are_said_plainly(served: ServedGateway) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    ran = customer(
        served, "send", "--title", TITLE, "--text", "x", "05321234567", "--url", nowhere, ok=False
    )
    assert f"cannot reach the gateway at {nowhere}" in ran.stderr
    ran = customer(served, "campaign", "list", env={"ILETI_API_KEY": ""}, ok=False)
    assert "ILETI_API_KEY" in ran.stderr


def test_at_must_be_a_date_and_a_time(served: ServedGateway) -> None:
    ran = customer(
        served, "send", "--title", TITLE, "--text", "x", "05321234567", "--at", "yarın", ok=False
    )
    assert "YYYY-MM-DD HH:MM" in ran.stderr


def test_help_does_not_load_httpx_or_the_database() -> None:
    script = (
        "import json, sys\n"
        "from ileti.cli import app\n"
        "try:\n    app(['send-file', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    loaded = json.loads(ran.stdout.strip().splitlines()[-1])
    heavy = ("httpx", "sqlalchemy", "fastapi", "phonenumbers")
    assert [m for m in loaded if m.split(".")[0] in heavy] == []


def test_a_dry_run_previews_and_starts_nothing(served: ServedGateway, sheet: Path) -> None:
    before = json.loads(customer(served, "campaign", "list", "--json").stdout)
    ran = customer(
        served, "send-file", str(sheet), "--title", TITLE, "--text", TEMPLATE, "--dry-run", "--json"
    )
    preview = json.loads(ran.stdout)
    assert {k: preview[k] for k in ("rows", "valid", "invalid", "duplicates", "blacklisted")} == {
        "rows": 4,
        "valid": 2,
        "invalid": 1,
        "duplicates": 1,
        "blacklisted": 0,
    }
    assert preview["credits"] >= 2 and isinstance(preview["balance"], int)
    assert "group_id" not in preview
    assert json.loads(customer(served, "campaign", "list", "--json").stdout) == before

    table = customer(
        served, "send-file", str(sheet), "--title", TITLE, "--text", TEMPLATE, "--dry-run"
    )
    assert "Sayın Ayşe Yılmaz, 150,75 TL borcunuz bulunmaktadır." in table.stdout
    assert "Sayın Çağrı Öztürk, 89 TL borcunuz bulunmaktadır." in table.stdout


def test_a_file_is_sent_followed_to_the_end_and_its_id_printed_last(
    served: ServedGateway, sheet: Path
) -> None:
    ran = customer(
        served,
        "send-file",
        str(sheet),
        "--title",
        TITLE,
        "--text",
        TEMPLATE,
        "--name",
        "Borç hatırlatma",
        "--yes",
    )
    campaign_id = int(ran.stdout.strip().splitlines()[-1])
    assert "delivered 2" in ran.stdout

    [campaign] = json.loads(
        customer(served, "campaign", "status", str(campaign_id), "--json").stdout
    )
    assert (campaign["name"], campaign["file_name"], campaign["template"]) == (
        "Borç hatırlatma",
        "müşteriler.csv",
        TEMPLATE,
    )
    assert (campaign["accepted"], campaign["delivered"]) == (2, 2)
    listed = json.loads(customer(served, "campaign", "list", "--json").stdout)
    assert campaign_id in [c["id"] for c in listed]


def test_a_started_file_answers_json_with_its_group(served: ServedGateway, sheet: Path) -> None:
    ran = customer(
        served, "send-file", str(sheet), "--title", TITLE, "--text", TEMPLATE, "--yes", "--json"
    )
    answer = json.loads(ran.stdout)
    assert answer["valid"] == 2 and answer["group_id"] > 0


def test_a_scheduled_campaign_can_be_cancelled(served: ServedGateway, sheet: Path) -> None:
    at = (datetime.now(ISTANBUL) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    ran = customer(
        served,
        "send-file",
        str(sheet),
        "--title",
        TITLE,
        "--text",
        TEMPLATE,
        "--at",
        at,
        "--yes",
    )
    campaign_id = ran.stdout.strip().splitlines()[-1]
    assert at in ran.stdout

    [cancel] = json.loads(customer(served, "campaign", "cancel", campaign_id, "--json").stdout)
    assert (cancel["cancelled"], cancel["left"]) == (2, 0)
    [campaign] = json.loads(customer(served, "campaign", "status", campaign_id, "--json").stdout)
    assert campaign["cancelled"] == 2
    again = customer(served, "campaign", "status", "999999999", ok=False)
    assert "TS-" in again.stderr


def test_a_refused_file_prints_the_code_and_starts_nothing(
    served: ServedGateway, tmp_path: Path
) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text("Ad;Telefon\nAyşe;05321112233\n", encoding="utf-8")
    ran = customer(
        served,
        "send-file",
        str(path),
        "--title",
        TITLE,
        "--text",
        "Sayın {Soyad}",
        "--yes",
        ok=False,
    )
    assert "TS-" in ran.stderr and "Soyad" in ran.stderr

    path.write_text("Ad;Telefon\nAyşe;12345\n", encoding="utf-8")
    before = customer(served, "campaign", "list", "--json").stdout
    ran = customer(
        served, "send-file", str(path), "--title", TITLE, "--text", "Sayın {Ad}", "--yes", ok=False
    )
    assert "no row of this file can be sent" in ran.stderr
    assert customer(served, "campaign", "list", "--json").stdout == before


def test_ctrl_c_stops_watching_not_sending(served: ServedGateway, tmp_path: Path) -> None:
    topup = run_ileti(["account", "topup", "demo", "--credits", "3500"], served.env, served.cwd)
    assert topup.returncode == 0, topup.stderr
    path = tmp_path / "many.csv"
    path.write_text("Telefon\n" + "".join(f"0532{n:07d}\n" for n in range(3000)), encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ileti",
            "send-file",
            str(path),
            "--title",
            TITLE,
            "--text",
            "Kampanya",
            "--yes",
        ],
        env={**os.environ, "ILETI_URL": served.base_url, "ILETI_API_KEY": served.key},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "accepted" in line:
            break
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert "Stopped watching" in out, out + err
    campaign_id = out.strip().splitlines()[-1]
    [campaign] = json.loads(customer(served, "campaign", "status", campaign_id, "--json").stdout)
    assert campaign["total"] == 3000 and campaign["cancelled"] == 0
