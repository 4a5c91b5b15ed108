"""API keys, webhooks, users and the audit log in Chromium: a key made in the panel answers at
the API, its webhook's test event reaches a receiver this test starts, signed; and every page of
the area, in both languages, on a phone and a laptop."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Page, expect

from ileti.domain import signing
from ileti.domain.keys import PREFIX_LENGTH
from support.receiver import Receiver
from web.browser.conftest import NARROW, WIDE, PanelGateway, log_in, shoot

CREATE = "main form[action='/panel/keys'] button[type=submit]"


def _create_key(page: Page, gateway: PanelGateway) -> str:
    page.goto(f"{gateway.base}/panel/keys")
    page.uncheck("input[name=send_bulk_sms]")
    page.fill("textarea[name=allowed_ips]", "127.0.0.1\n10.0.0.0/8")
    page.fill("input[name=per_minute]", "120")
    page.click(CREATE)
    return page.get_by_test_id("new-key").inner_text().strip()


def test_a_key_made_in_the_panel_answers_and_its_webhook_test_event_arrives(
    page: Page, gateway: PanelGateway
) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/en?next=/panel/keys")
    page.fill("textarea[name=allowed_ips]", "10.0.0.300")
    page.click(CREATE)
    expect(page.get_by_role("alert")).to_contain_text("10.0.0.300")
    shoot(page, "keys-refused")

    key = _create_key(page, gateway)
    shoot(page, "keys-new-key")
    answer = httpx.post(f"{gateway.base}/balance", json={"api_key": key}, timeout=10)
    assert answer.json()["result_code"] == "TS-1040"
    # Shown once: a later visit shows only the prefix.
    page.goto(f"{gateway.base}/panel/keys")
    expect(page.get_by_test_id("new-key")).to_have_count(0)
    assert key not in page.content()
    row = page.locator(f"tr[data-key='{key[:PREFIX_LENGTH]}']")
    expect(row).to_contain_text("10.0.0.0/8")

    with Receiver() as receiver:
        row.get_by_role("link", name="Webhook").click()
        page.fill("input[name=url]", receiver.url)
        page.click("main form[action$='/webhook'] button[type=submit]")
        secret = page.get_by_test_id("new-secret").inner_text().strip()
        shoot(page, "keys-webhook-new-secret")
        page.get_by_test_id("send-test").click()
        expect(page.locator("main p.ok")).to_be_visible()
        deadline = time.monotonic() + 15
        while not receiver.requests():
            assert time.monotonic() < deadline, "the test event did not arrive"
            time.sleep(0.1)
        (got,) = receiver.requests()
    headers = got.headers
    assert b'"key.test"' in got.body
    assert headers["webhook-signature"] == signing.standard_signature(
        [secret], headers["webhook-id"], int(headers["webhook-timestamp"]), got.body
    )
    # The attempt shows once the sender has written it.
    for _ in range(30):
        page.reload()
        if page.locator("table[data-testid=deliveries]").filter(has_text="HTTP 200").count():
            break
        time.sleep(0.3)
    expect(page.get_by_test_id("deliveries")).to_contain_text(headers["webhook-id"])
    expect(page.get_by_test_id("deliveries")).to_contain_text("HTTP 200")
    shoot(page, "keys-webhook-delivered")

    page.goto(f"{gateway.base}/panel/keys")
    page.locator(f"tr[data-key='{key[:PREFIX_LENGTH]}']").get_by_role("link", name="Revoke").click()
    shoot(page, "keys-revoke")
    page.click("main button.danger")
    expect(page.locator(f"tr[data-key='{key[:PREFIX_LENGTH]}']")).to_contain_text("Revoked")
    time.sleep(1.2)  # the key cache's second
    answer = httpx.post(f"{gateway.base}/balance", json={"api_key": key}, timeout=10)
    assert answer.json()["result_code"] == "TS-1031"

    page.goto(f"{gateway.base}/panel/audit")
    expect(page.locator("tr[data-action='key.revoke']").first).to_contain_text(key[:PREFIX_LENGTH])
    assert key not in page.content() and secret not in page.content()


def test_an_owner_adds_a_member_and_sees_it_logged(page: Page, gateway: PanelGateway) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/tr?next=/panel/users")
    page.fill("main input[name=email]", "journey-member@example.com")
    page.click("main form[action='/panel/users'] button[type=submit]")
    password = page.get_by_test_id("new-password").inner_text().strip()
    shoot(page, "users-new-password")
    page.context.clear_cookies()
    log_in(page, gateway, "journey-member@example.com", password)
    expect(page.get_by_test_id("balance-main")).to_be_visible()
    # A member has no way in to the owners' pages.
    for path in ("/panel/keys", "/panel/users", "/panel/audit"):
        assert page.goto(f"{gateway.base}{path}").status == 404  # type: ignore[union-attr]
    page.context.clear_cookies()
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/audit")
    expect(page.locator("tr[data-action='user.add']").first).to_contain_text(
        "journey-member@example.com"
    )


def test_every_page_reads_well_in_both_languages_and_widths(
    page: Page, gateway: PanelGateway
) -> None:
    log_in(page, gateway)
    _create_key(page, gateway)
    page.goto(f"{gateway.base}/panel/keys")
    key_path = page.locator("main a[href$='/webhook']").first.get_attribute("href")
    assert key_path
    key_id = re.search(r"/keys/(\d+)/", key_path)
    assert key_id
    pages = {
        "keys": "/panel/keys",
        "keys-webhook": f"/panel/keys/{key_id.group(1)}/webhook",
        "keys-revoke": f"/panel/keys/{key_id.group(1)}/revoke",
        "users": "/panel/users",
        "users-remove": f"/panel/users/remove?email={gateway.email}",
        "audit": "/panel/audit",
    }
    for lang in ("tr", "en"):
        page.goto(f"{gateway.base}/panel/lang/{lang}?next=/panel/keys")
        for size in (WIDE, NARROW):
            page.set_viewport_size(size)
            for name, path in pages.items():
                answer = page.goto(f"{gateway.base}{path}")
                assert answer is not None and answer.status == 200, path
                expect(page.locator("html")).to_have_attribute("lang", lang)
                # Nothing wider than the window but the tables, which scroll in their frame.
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, (name, lang, size)
                shoot(page, name)
