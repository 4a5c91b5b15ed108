"""In the browser, a user of another account reaches none of the demo account's send, key,
webhook or contact group: by address, and by a form whose hidden field names them."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Page, expect

from web.browser.conftest import PanelGateway, log_in

NOT_FOUND = re.compile("Not found|Bulunamadı")


def _demo_objects(page: Page, gateway: PanelGateway) -> dict[str, str]:
    """A message, a key and a contact group of the demo account, found as its owner."""
    sent = httpx.post(
        f"{gateway.base}/sms/send",
        json={
            "api_key": gateway.served.key,
            "title": "ILETI",
            "sentto": "905321234567",
            "text": "Yalnız demo görür",
        },
    ).json()
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/keys")
    webhook = page.locator("a[href$='/webhook']").first.get_attribute("href")
    assert webhook, page.content()
    key_id = webhook.split("/")[3]
    page.goto(f"{gateway.base}/panel/contacts")
    page.fill("main input[name=name]", f"Gizli {time.time_ns()}")
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    group_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.context.clear_cookies()
    return {"sms_id": str(sent["sms_id"]), "key_id": key_id, "group_id": group_id}


def test_another_accounts_owner_finds_nothing_of_the_demos(
    page: Page, gateway: PanelGateway
) -> None:
    demo = _demo_objects(page, gateway)
    name = f"rival{time.time_ns()}"
    gateway.ileti("account", "create", name, "--credits", "10")
    gateway.ileti("title", "add", name, "RIVAL", "--active")
    password = gateway.ileti("user", "add", name, f"owner@{name}.test", "--role", "owner")
    log_in(page, gateway, f"owner@{name}.test", password.strip().splitlines()[-1])
    expect(page.get_by_test_id("account-name")).to_have_text(name)

    for path in (
        f"/panel/sends/message/{demo['sms_id']}",
        f"/panel/keys/{demo['key_id']}/webhook",
        f"/panel/keys/{demo['key_id']}/revoke",
        f"/panel/contacts/{demo['group_id']}",
    ):
        answer = page.goto(gateway.base + path)
        assert answer is not None and answer.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text(NOT_FOUND)

    # The send form's group field, pointed at the demo's group by hand.
    page.goto(f"{gateway.base}/panel/send")
    page.evaluate(
        """id => {
            const select = document.querySelector("select[name=contact_group]");
            select.add(new Option("x", id));
            select.value = id;
        }""",
        demo["group_id"],
    )
    page.fill("textarea[name=text]", "Merhaba")
    with page.expect_navigation() as sent:
        page.click("main button[type=submit]")
    assert sent.value is not None and sent.value.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(NOT_FOUND)

    # And the demo's own contact group is still there, untouched.
    page.context.clear_cookies()
    log_in(page, gateway)
    answer = page.goto(f"{gateway.base}/panel/contacts/{demo['group_id']}")
    assert answer is not None and answer.status == 200
