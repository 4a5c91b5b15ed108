"""Contacts, the blacklist, sender IDs and billing in Chromium: a contact group made in the
panel, filled by hand and from a CSV file, then sent to; and every page of the area in both
languages, in a phone's window and a desktop's."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from web.browser.conftest import NARROW, WIDE, PanelGateway, log_in, shoot

# Each page of the area and the name of its screenshot.
PAGES = {
    "contacts": "contacts-groups",
    "blacklist": "blacklist-list",
    "titles": "titles-list",
    "billing": "billing-ledger",
}


def _choose(page: Page, selector: str, value: str) -> None:
    """A field the send form may make a list or a text box."""
    field = page.locator(selector)
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)


def test_a_contact_group_is_made_filled_and_sent_to(page: Page, gateway: PanelGateway) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/en?next=/panel/contacts")
    name = f"Journey {time.time_ns()}"
    page.fill("main input[name=name]", name)
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    group_id = page.url.rstrip("/").rsplit("/", 1)[1]

    page.fill("textarea[name=numbers]", "0532 111 00 01\n0532 111 00 02, not a number")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_test_id("add-result")).to_contain_text("Added: 2")
    expect(page.get_by_test_id("invalid-lines")).to_contain_text("not a number")
    expect(page.get_by_test_id("group-size")).to_have_text("2 numbers")

    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "rehber.csv",
                "mimeType": "text/csv",
                "buffer": "Ad;Soyad;Telefon\nŞükrü;Çağlar;0532 111 00 01\n".encode("cp1254"),
            }
        ],
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("add-result")).to_contain_text("Already in the group: 1")
    shoot(page, "contacts-import")

    page.goto(f"{gateway.base}/panel/send?contact_group={group_id}")
    page.locator("select[name=contact_group]").select_option(group_id)
    _choose(page, "[name=title]", "ILETI")
    page.fill("textarea[name=text]", "Merhaba, rehberden selam!")
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("result-accepted")).to_have_text(re.compile(r"^\s*2 / 2\s*$"))


def test_the_blacklist_keeps_a_number_out(page: Page, gateway: PanelGateway) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/en?next=/panel/blacklist")
    page.fill("main input[name=number]", "0533 999 88 77")
    page.click("main button[type=submit]")
    expect(page.get_by_role("status")).to_contain_text("+905339998877 is on the blacklist")
    row = page.get_by_role("row").filter(has_text="+905339998877")
    expect(row).to_contain_text("Added by your account")
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_contain_text("+905339998877 is off the blacklist")


def test_a_sender_id_is_asked_for(page: Page, gateway: PanelGateway) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/en?next=/panel/titles")
    wanted = f"J{time.time_ns() % 10**9}"
    page.fill("main input[name=title]", "X")
    page.fill("main textarea[name=reason]", "Order messages of our shop")
    page.click("main button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("3 to 11 characters")
    shoot(page, "titles-refused")
    page.fill("main input[name=title]", wanted)
    page.click("main button[type=submit]")
    row = page.get_by_role("row").filter(has_text=wanted)
    expect(row.get_by_test_id("title-state")).to_have_text("pending approval")
    shoot(page, "titles-pending")
    gateway.ileti("title", "set", "demo", wanted, "active")
    page.reload()
    expect(row.get_by_test_id("title-state")).to_have_text("active")


def test_every_page_of_the_area_in_both_languages_and_windows(
    page: Page, gateway: PanelGateway
) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/contacts")
    page.fill("main input[name=name]", f"Müşteriler {time.time_ns()}")
    page.click("main button[type=submit]")
    group_path = page.url.removeprefix(gateway.base)
    page.fill("textarea[name=numbers]", "0532 111 00 01\n0532 111 00 02\n0532 111 00 03")
    page.fill("input[name=first_name]", "Şükrü")
    page.fill("input[name=last_name]", "Çağlar")
    page.locator("form[action$='/numbers'] button[type=submit]").click()
    expect(page.get_by_test_id("group-size")).to_contain_text("3")
    page.goto(f"{gateway.base}/panel/blacklist")
    page.fill("main input[name=number]", "0533 999 88 66")
    page.click("main button[type=submit]")
    for lang in ("tr", "en"):
        for window in (NARROW, WIDE):
            page.set_viewport_size(window)
            page.goto(f"{gateway.base}/panel/lang/{lang}?next=/panel/contacts")
            for path, shot in PAGES.items():
                page.goto(f"{gateway.base}/panel/{path}")
                expect(page.locator("h1")).to_be_visible()
                _fits(page)
                shoot(page, shot)
            page.goto(f"{gateway.base}{group_path}")
            page.fill("textarea[name=numbers]", "0532 111 00 01\n0212 555 12 34\nabc")
            page.locator("form[action$='/numbers'] button[type=submit]").click()
            expect(page.get_by_test_id("invalid-lines")).to_be_visible()
            _fits(page)
            shoot(page, "contacts-group")


def _fits(page: Page) -> None:
    """Nothing makes the page scroll sideways (wide tables scroll in their own frame)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px too wide"
