"""Real Chromium (Debian's, launched by its path) driving ``ileti serve --demo`` through
Playwright. Without a Chromium the browser tests skip, saying so; ``.ci/run`` installs one and
names it in ``ILETI_TEST_CHROMIUM``, and then a missing browser ends the run instead."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from support.server import ServedGateway, run_ileti, serve_demo

CHROMIUM = os.environ.get("ILETI_TEST_CHROMIUM") or shutil.which("chromium")
SKIP_BROWSER = (
    "browser tests skipped: no Chromium (apt-get install -y chromium, or set ILETI_TEST_CHROMIUM)"
)
# Where every page's screenshots go, by language and window: look at them.
SHOTS = Path(
    os.environ.get("ILETI_TEST_SCREENSHOTS", Path(__file__).resolve().parents[3] / "screenshots")
)
WIDE = {"width": 1366, "height": 900}
NARROW = {"width": 390, "height": 844}


@dataclass
class PanelGateway:
    served: ServedGateway
    email: str
    password: str

    @property
    def base(self) -> str:
        return self.served.base_url

    def ileti(self, *args: str) -> str:
        """An operator's command against this gateway's database; its output."""
        done = run_ileti(list(args), self.served.env, self.served.cwd)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not CHROMIUM:
        pytest.skip(SKIP_BROWSER)
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelGateway]:
    """``ileti serve --demo`` on its own SQLite file, and the demo owner's login."""
    if not CHROMIUM:
        pytest.skip(SKIP_BROWSER)
    cwd = tmp_path_factory.mktemp("panel")
    env = {
        "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'ileti.db'}",
        "ILETI_DATA_DIR": str(cwd / "private"),
        "ILETI_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    served = serve_demo(cwd, env)
    email = re.search(r"email:\s+(\S+)", served.stdout)
    password = re.search(r"password:\s+(\S+)", served.stdout)
    assert email and password, served.stdout
    try:
        yield PanelGateway(served, email.group(1), password.group(1))
    finally:
        served.stop()


def log_in(page: Page, gateway: PanelGateway, email: str = "", password: str = "") -> None:
    page.goto(f"{gateway.base}/panel/login")
    page.fill("input[name=email]", email or gateway.email)
    page.fill("input[name=password]", password or gateway.password)
    page.click("main button[type=submit]")


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot under ``screenshots/<lang>-<width>/<name>.png``."""
    lang = page.evaluate("document.documentElement.lang") or "xx"
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SHOTS / f"{lang}-{width}" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
