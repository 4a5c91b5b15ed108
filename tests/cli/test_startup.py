"""``ileti --help`` and its like start at once: a command imports what it needs when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "fastapi", "uvicorn", "phonenumbers", "alembic", "cryptography", "asyncpg")


@pytest.mark.parametrize("args", [["--help"], ["webhook", "--help"], ["key", "list", "--help"]])
def test_help_loads_none_of_the_heavy_modules(args: list[str]) -> None:
    """What makes ``ileti --help`` start at once: the database, the API and the crypto stack
    are imported by the commands that use them, not to list them."""
    script = (
        "import json, sys\n"
        "from ileti.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    loaded = json.loads(ran.stdout.strip().splitlines()[-1])
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


def test_the_smsc_command_offers_every_id_form_of_the_simulator() -> None:
    from ileti.carriers.simulator import IdForm
    from ileti.cli.smsc import IdFormName

    assert [form.value for form in IdForm] == [name.value for name in IdFormName]
