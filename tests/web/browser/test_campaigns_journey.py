"""Excel to SMS in Chromium: a CSV of Turkish customers uploaded, its phone column mapped, the
template written with a placeholder button and seen live on the first row, the preview, the
start, and the progress page filling until the valid rows are delivered; a scheduled one
cancelled."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from web.browser.conftest import NARROW, WIDE, PanelGateway, log_in, shoot

FILE = (
    "Müşteri Adı;Cep Tel;Tutar\n"
    "Ayşe Yılmaz;0532 111 22 33;150,75\n"
    "Çağrı Öztürk;+90 533 444 55 66;89\n"
    "İsmail Şen;12345;10\n"
).encode()
FIRST = "Sayın Ayşe Yılmaz, 150,75 TL borcunuz bulunmaktadır."


def _upload(page: Page, gateway: PanelGateway) -> None:
    page.goto(f"{gateway.base}/panel/campaigns/new")
    page.set_input_files(
        "input[name=file]", {"name": "borçlular.csv", "mimeType": "text/csv", "buffer": FILE}
    )
    page.click("main button[type=submit]")
    expect(page).to_have_url(re.compile(r"/panel/campaigns/upload/"))


def _compose(page: Page) -> None:
    """The phone column chosen, the template written with the placeholder buttons."""
    page.select_option("select[name=phone_column]", "Cep Tel")
    template = page.get_by_test_id("template")
    template.click()
    template.press_sequentially("Sayın ")
    page.get_by_role("button", name="{Müşteri Adı}").click()
    template.press_sequentially(", ")
    page.get_by_role("button", name="{Tutar}").click()
    template.press_sequentially(" TL borcunuz bulunmaktadır.")
    expect(template).to_have_value("Sayın {Müşteri Adı}, {Tutar} TL borcunuz bulunmaktadır.")
    expect(page.get_by_test_id("first-message")).to_have_text(FIRST)


def test_a_file_becomes_a_campaign_delivered_row_by_row(page: Page, gateway: PanelGateway) -> None:
    page.set_viewport_size(WIDE)
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/tr?next=/panel/campaigns")
    page.get_by_test_id("new-campaign").click()
    shoot(page, "campaigns-new")
    _upload(page, gateway)
    _compose(page)
    expect(page.get_by_test_id("counter-segments")).to_have_text("1")
    shoot(page, "campaigns-compose")

    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("count-rows")).to_have_text("3")
    expect(page.get_by_test_id("count-valid")).to_have_text("2")
    expect(page.get_by_test_id("count-invalid")).to_have_text("1")
    expect(page.get_by_test_id("samples")).to_contain_text(FIRST)
    expect(page.get_by_test_id("rejects")).to_contain_text("12345")
    shoot(page, "campaigns-preview")

    page.get_by_test_id("start-button").click()
    expect(page).to_have_url(re.compile(r"/panel/campaigns/\d+$"))
    # The page follows the campaign by itself until the receipts are in.
    expect(page.get_by_test_id("state-delivered")).to_have_text("2", timeout=30_000)
    expect(page.get_by_test_id("campaign-status")).to_have_attribute("data-final", "true")
    shoot(page, "campaigns-progress")

    page.goto(f"{gateway.base}/panel/lang/en?next=/panel/campaigns")
    expect(page.get_by_role("heading", name="Excel to SMS")).to_be_visible()
    shoot(page, "campaigns-list")
    page.set_viewport_size(NARROW)
    shoot(page, "campaigns-list")
    page.get_by_test_id("campaigns").get_by_role("link").first.click()
    shoot(page, "campaigns-progress")
    page.goto(f"{gateway.base}/panel/lang/tr?next=/panel/campaigns")
    shoot(page, "campaigns-list")


def test_a_scheduled_campaign_is_cancelled_after_a_confirmation(
    page: Page, gateway: PanelGateway
) -> None:
    page.set_viewport_size(NARROW)
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/en?next=/panel/campaigns/new")
    shoot(page, "campaigns-new")
    _upload(page, gateway)
    _compose(page)
    later = datetime.now(ZoneInfo("Europe/Istanbul")) + timedelta(days=7)
    page.fill("input[name=scheduled_at]", later.strftime("%Y-%m-%dT10:00"))
    page.fill("input[name=name]", "Hatırlatma")
    shoot(page, "campaigns-compose")
    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("start-button")).to_be_visible()
    shoot(page, "campaigns-preview")
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("state-queued")).to_have_text("2")

    page.get_by_test_id("cancel-link").click()
    shoot(page, "campaigns-cancel")
    page.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("campaign-notice")).to_contain_text("2 messages cancelled")
    expect(page.get_by_test_id("state-cancelled")).to_have_text("2")
    shoot(page, "campaigns-cancelled")
    page.set_viewport_size(WIDE)
    shoot(page, "campaigns-cancelled")
    page.goto(f"{gateway.base}/panel/lang/tr?next=/panel/campaigns/new")
    _upload(page, gateway)
    _compose(page)
    page.get_by_test_id("preview-button").click()
    shoot(page, "campaigns-preview")
    page.set_viewport_size(NARROW)
    shoot(page, "campaigns-preview")
