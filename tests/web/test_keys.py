"""API keys and their webhooks in the panel: a key made there works at the API as chosen, is
shown once, can be switched off and revoked; a webhook's test event reaches its receiver; the
rival's keys and events stay out of reach; members see none of it."""

from __future__ import annotations

import asyncio
import re
import time

import httpx

from ileti.domain import signing
from ileti.domain.permissions import GRANTED_BY_DEFAULT, Permission
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.webhooks.sender import SenderSettings, WebhookSender
from support.panel import Panel, acme_panel
from support.receiver import Receiver

NEW_KEY = re.compile(r'data-testid="new-key">([^<]+)<')
NEW_SECRET = re.compile(r'data-testid="new-secret">([^<]+)<')


async def _new_key(panel: Panel, client: httpx.AsyncClient | None = None, **fields: str) -> str:
    form = {p.value: "on" for p in GRANTED_BY_DEFAULT} | fields
    answer = await panel.post("/panel/keys", form, client=client)
    assert answer.status_code == 200, answer.text
    found = NEW_KEY.search(answer.text)
    assert found, answer.text
    return found.group(1)


async def _balance(panel: Panel, key: str) -> str:
    answer = await panel.owner.client.post("/balance", json={"api_key": key})
    return str(answer.json()["result_code"])


async def _key_id(panel: Panel, account_id: int, key: str) -> int:
    records = await panel.services.keys.of_account(account_id)
    return next(r.id for r in records if key.startswith(r.prefix))


async def test_a_key_made_in_the_panel_works_at_the_api_as_chosen_and_is_shown_once(
    panel: Panel,
) -> None:
    key = await _new_key(
        panel,
        send_single_sms="",
        send_otp="",
        send_bulk_sms="",
        allowed_ips="127.0.0.1\n10.0.0.0/8\n",
        per_minute="30",
    )
    assert await _balance(panel, key) == "TS-1040"
    (record,) = await panel.services.keys.of_account(panel.account_id)
    assert record.permissions == {Permission.CHECK_BALANCE, Permission.CHECK_SMS_STATUS}
    assert record.allowed_ips == ("127.0.0.1/32", "10.0.0.0/8")
    assert record.per_minute == 30
    # A permission left unticked is refused at the API.
    sent = await panel.owner.client.post(
        "/sms/send",
        json={"api_key": key, "title": "ACME", "sentto": "905321234567", "text": "hi"},
    )
    assert sent.json()["result_code"] == "TS-1065"

    listed = await panel.get("/panel/keys")
    assert record.prefix in listed.text and key not in listed.text
    assert "10.0.0.0/8" in listed.text and 'data-testid="new-key"' not in listed.text
    audit = await panel.get("/panel/audit")
    assert record.prefix in audit.text and key not in audit.text
    assert "Key created" in audit.text or "Anahtar oluşturuldu" in audit.text


async def test_a_key_outside_its_allowlist_is_refused(panel: Panel) -> None:
    key = await _new_key(panel, allowed_ips="192.0.2.0/24")
    assert await _balance(panel, key) == "TS-1041"


async def test_an_allowlist_line_that_is_no_address_is_refused_and_no_key_is_made(
    panel: Panel,
) -> None:
    answer = await panel.post(
        "/panel/keys", {"check_balance": "on", "allowed_ips": "10.0.0.1\n10.0.0.300"}
    )
    assert answer.status_code == 400
    assert "10.0.0.300" in answer.text and 'role="alert"' in answer.text
    assert 'data-testid="new-key"' not in answer.text
    # What was typed stays in the form.
    assert "10.0.0.1\n10.0.0.300" in answer.text
    answer = await panel.post("/panel/keys", {"check_balance": "on", "per_minute": "many"})
    assert answer.status_code == 400
    assert await panel.services.keys.of_account(panel.account_id) == []


async def test_disabling_enabling_and_revoking_take_effect_and_are_logged(panel: Panel) -> None:
    key = await _new_key(panel)
    key_id = await _key_id(panel, panel.account_id, key)
    answer = await panel.post(f"/panel/keys/{key_id}/api", {"enabled": "0"})
    assert answer.status_code == 303
    panel.clock.advance(2)  # past the key cache
    assert await _balance(panel, key) == "TS-1061"
    listed = await panel.get("/panel/keys")
    assert "Disabled" in listed.text or "Kapalı" in listed.text

    await panel.post(f"/panel/keys/{key_id}/api", {"enabled": "1"})
    panel.clock.advance(2)
    assert await _balance(panel, key) == "TS-1040"

    confirm = await panel.get(f"/panel/keys/{key_id}/revoke")
    assert confirm.status_code == 200 and key[:8] in confirm.text
    assert await _balance(panel, key) == "TS-1040"  # asking changes nothing
    assert (await panel.post(f"/panel/keys/{key_id}/revoke")).status_code == 303
    panel.clock.advance(2)
    assert await _balance(panel, key) == "TS-1031"

    audit = await panel.get("/panel/audit")
    actions = re.findall(r'data-action="(key\.[^"]+)"', audit.text)
    assert actions == ["key.revoke", "key.enable", "key.disable", "key.create"]
    assert key not in audit.text


async def test_a_member_gets_404_on_every_owner_page_and_form(panel: Panel) -> None:
    key = await _new_key(panel)
    key_id = await _key_id(panel, panel.account_id, key)
    member = panel.member.client
    for path in ("/panel/keys", f"/panel/keys/{key_id}/revoke", f"/panel/keys/{key_id}/webhook"):
        assert (await panel.get(path, client=member)).status_code == 404, path
    for path, form in (
        ("/panel/keys", {"check_balance": "on"}),
        (f"/panel/keys/{key_id}/api", {"enabled": "0"}),
        (f"/panel/keys/{key_id}/revoke", {}),
        (f"/panel/keys/{key_id}/webhook", {"url": "https://example.com/hook"}),
        (f"/panel/keys/{key_id}/webhook/test", {}),
        (f"/panel/keys/{key_id}/webhook/rotate", {}),
        (f"/panel/keys/{key_id}/webhook/replay", {}),
    ):
        assert (await panel.post(path, form, client=member)).status_code == 404, path
    (record,) = await panel.services.keys.of_account(panel.account_id)
    assert record.api_enabled and not record.revoked
    assert len(await panel.services.keys.of_account(panel.account_id)) == 1
    assert await _balance(panel, key) == "TS-1040"


async def test_the_rivals_key_and_webhook_are_not_found_and_stay_as_they_were(
    db: Database,
) -> None:
    async with acme_panel(db, webhook_allow_private=True) as panel:
        rival_key = await _new_key(panel, client=panel.rival.client)
        rival_id = await _key_id(panel, panel.rival_account_id, rival_key)
        configured = await panel.post(
            f"/panel/keys/{rival_id}/webhook",
            {"url": "http://127.0.0.1:9/hook", "events": "sms.sent", "enabled": "on"},
            client=panel.rival.client,
        )
        assert NEW_SECRET.search(configured.text)
        for path in (f"/panel/keys/{rival_id}/revoke", f"/panel/keys/{rival_id}/webhook"):
            assert (await panel.get(path)).status_code == 404, path
        for path, form in (
            (f"/panel/keys/{rival_id}/api", {"enabled": "0"}),
            (f"/panel/keys/{rival_id}/revoke", {}),
            (f"/panel/keys/{rival_id}/webhook", {"url": "https://example.com/x", "enabled": "on"}),
            (f"/panel/keys/{rival_id}/webhook/test", {}),
            (f"/panel/keys/{rival_id}/webhook/rotate", {}),
            (f"/panel/keys/{rival_id}/webhook/replay", {}),
        ):
            assert (await panel.post(path, form)).status_code == 404, path
        # The account's panel key is never one of its keys.
        panel_key = await panel.services.keys.panel_key(panel.account_id)
        assert (await panel.get(f"/panel/keys/{panel_key}/webhook")).status_code == 404

        (record,) = await panel.services.keys.of_account(panel.rival_account_id)
        assert record.api_enabled and not record.revoked
        hook = await panel.services.webhooks.of_key(panel.rival_account_id, rival_id)
        assert hook.config is not None and hook.config.url == "http://127.0.0.1:9/hook"
        assert hook.recent == []
        assert await _balance(panel, rival_key) == "TS-1040"
        assert record.prefix not in (await panel.get("/panel/audit")).text


async def test_a_private_receiver_is_refused_unless_the_operator_allows_it(
    panel: Panel,
) -> None:
    key_id = await _key_id(panel, panel.account_id, await _new_key(panel))
    answer = await panel.post(
        f"/panel/keys/{key_id}/webhook", {"url": "http://127.0.0.1:8080/hook", "enabled": "on"}
    )
    assert answer.status_code == 400 and 'role="alert"' in answer.text
    assert 'data-testid="new-secret"' not in answer.text
    assert (await panel.services.webhooks.of_key(panel.account_id, key_id)).config is None
    answer = await panel.post(
        f"/panel/keys/{key_id}/webhook", {"url": "ftp://example.com/hook", "enabled": "on"}
    )
    assert answer.status_code == 400


async def _wait(condition: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_webhook_test_event_reaches_the_receiver_signed_and_shows_its_attempt(
    db: Database,
) -> None:
    async with acme_panel(db, webhook_allow_private=True) as panel:
        key_id = await _key_id(panel, panel.account_id, await _new_key(panel))
        with Receiver() as receiver:
            answer = await panel.post(
                f"/panel/keys/{key_id}/webhook",
                {"url": receiver.url, "events": ["sms.delivered", "sms.failed"], "enabled": "on"},
            )
            secret = NEW_SECRET.search(answer.text)
            assert secret, answer.text
            page = await panel.get(f"/panel/keys/{key_id}/webhook")
            assert secret.group(1) not in page.text
            assert 'value="sms.delivered" checked' in page.text
            assert 'value="sms.sent" checked' not in page.text

            assert (await panel.post(f"/panel/keys/{key_id}/webhook/test")).status_code == 303
            sender = WebhookSender(
                db,
                SenderSettings(allow_private=True, idle_poll_seconds=0.05, record_seconds=0.01),
                clock=panel.clock,
                keyring=panel.services.keyring,
            )
            task = asyncio.ensure_future(sender.run())
            try:
                await _wait(lambda: receiver.requests())
                hook = await panel.services.webhooks.of_key(panel.account_id, key_id)

                async def recorded() -> bool:
                    nonlocal hook
                    hook = await panel.services.webhooks.of_key(panel.account_id, key_id)
                    return bool(hook.recent and hook.recent[0].attempts)

                deadline = time.monotonic() + 10
                while not await recorded():
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        (got,) = receiver.requests()
        headers = got.headers
        assert headers["webhook-signature"] == signing.standard_signature(
            [secret.group(1)], headers["webhook-id"], int(headers["webhook-timestamp"]), got.body
        )
        assert b'"key.test"' in got.body
        page = await panel.get(f"/panel/keys/{key_id}/webhook")
        assert "HTTP 200" in page.text and headers["webhook-id"] in page.text


async def test_a_dead_event_is_sent_again_and_a_rivals_event_is_not_found(db: Database) -> None:
    async with acme_panel(db, webhook_allow_private=True) as panel:
        key_id = await _key_id(panel, panel.account_id, await _new_key(panel))
        await panel.post(
            f"/panel/keys/{key_id}/webhook", {"url": "http://127.0.0.1:9/hook", "enabled": "on"}
        )
        rival_key = await _new_key(panel, client=panel.rival.client)
        rival_id = await _key_id(panel, panel.rival_account_id, rival_key)
        await panel.post(
            f"/panel/keys/{rival_id}/webhook",
            {"url": "http://127.0.0.1:9/hook", "enabled": "on"},
            client=panel.rival.client,
        )
        ours = await panel.services.webhooks.test_of(panel.account_id, key_id)
        theirs = await panel.services.webhooks.test_of(panel.rival_account_id, rival_id)
        now_ms = panel.clock.now_ms()
        async with db.write() as conn:
            await outbox.claim(conn, "test", 10, now_ms, 60_000)
            await outbox.record(
                conn,
                [
                    outbox.Attempt(e.event_id, 1, now_ms, 500, 12, "HTTP 500", False, None)
                    for e in (ours, theirs)
                ],
            )
        page = await panel.get(f"/panel/keys/{key_id}/webhook")
        assert ours.event_id in page.text and theirs.event_id not in page.text
        assert "HTTP 500" in page.text

        refused = await panel.post(
            f"/panel/keys/{key_id}/webhook/replay", {"event": theirs.event_id}
        )
        assert refused.status_code == 404
        replayed = await panel.post(
            f"/panel/keys/{key_id}/webhook/replay", {"event": ours.event_id}
        )
        assert replayed.headers["location"].endswith("replayed=1")
        hook = await panel.services.webhooks.of_key(panel.account_id, key_id)
        assert hook.dead == [] and hook.counts["pending"] == 1
        rival = await panel.services.webhooks.of_key(panel.rival_account_id, rival_id)
        assert [e.id for e in rival.dead] == [theirs.event_id]


async def test_a_rotated_secret_is_shown_once_and_never_logged(db: Database) -> None:
    async with acme_panel(db, webhook_allow_private=True) as panel:
        key_id = await _key_id(panel, panel.account_id, await _new_key(panel))
        first = await panel.post(
            f"/panel/keys/{key_id}/webhook", {"url": "http://127.0.0.1:9/hook", "enabled": "on"}
        )
        first_secret = NEW_SECRET.search(first.text)
        rotated = await panel.post(f"/panel/keys/{key_id}/webhook/rotate")
        second = NEW_SECRET.search(rotated.text)
        assert first_secret and second and first_secret.group(1) != second.group(1)
        # Saving the other settings keeps the secret and shows none.
        saved = await panel.post(
            f"/panel/keys/{key_id}/webhook", {"url": "http://127.0.0.1:9/other", "enabled": ""}
        )
        assert saved.status_code == 303
        page = await panel.get(f"/panel/keys/{key_id}/webhook")
        assert second.group(1) not in page.text and 'data-testid="new-secret"' not in page.text
        hook = await panel.services.webhooks.of_key(panel.account_id, key_id)
        assert hook.config is not None and not hook.config.enabled
        audit = await panel.get("/panel/audit")
        actions = re.findall(r'data-action="(webhook\.[^"]+)"', audit.text)
        assert actions == ["webhook.set", "webhook.rotate_secret", "webhook.set"]
        for secret in (first_secret.group(1), second.group(1)):
            assert secret not in audit.text
