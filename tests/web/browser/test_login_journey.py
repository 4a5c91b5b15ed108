"""Logging into the panel in Chromium: with a password, and with a TOTP code after enrolling."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from ileti.domain import totp
from web.browser.conftest import PanelGateway, log_in, shoot


def test_the_demo_owner_logs_in_and_sees_the_balance(page: Page, gateway: PanelGateway) -> None:
    page.goto(f"{gateway.base}/")
    # The root leads to the panel, which asks for a login.
    expect(page).to_have_url(re.compile(r"/panel/login"))
    shoot(page, "login")
    log_in(page, gateway, password="not the password")
    expect(page.get_by_role("alert")).to_be_visible()
    log_in(page, gateway)
    expect(page.get_by_test_id("balance-main")).to_have_text(re.compile(r"^\d[\d.,]*$"))
    page.get_by_role("button", name=re.compile("Log out|Çıkış")).click()
    expect(page).to_have_url(re.compile(r"/panel/login"))
    page.goto(f"{gateway.base}/panel/")
    expect(page).to_have_url(re.compile(r"/panel/login"))


def test_a_user_who_enrolled_needs_a_code(page: Page, gateway: PanelGateway) -> None:
    out = gateway.ileti("user", "add", "demo", "totp@example.com")
    password = out.strip().splitlines()[-1]
    log_in(page, gateway, "totp@example.com", password)
    page.goto(f"{gateway.base}/panel/account/totp")
    shoot(page, "totp-enrol")
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", totp.code_at(secret, int(time.time() // 30)))
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("balance-main")).to_be_visible()
    page.context.clear_cookies()

    log_in(page, gateway, "totp@example.com", password)
    expect(page).to_have_url(re.compile(r"/panel/login/code"))
    shoot(page, "login-code")
    page.fill("input[name=code]", "000000")
    page.click("main button[type=submit]")
    expect(page.get_by_role("alert")).to_be_visible()
    # The next step's code: the one just used for enrolling counts once.
    page.fill("input[name=code]", totp.code_at(secret, int(time.time() // 30) + 1))
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("balance-main")).to_be_visible()
