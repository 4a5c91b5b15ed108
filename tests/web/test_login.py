"""Logging into the panel: passwords, TOTP, throttling, sessions, CSRF, languages."""

from __future__ import annotations

from ileti.domain import totp
from ileti.store.db import Database
from support.panel import CSRF, Panel, acme_panel


def _step(panel: Panel) -> int:
    return int(panel.clock.now().timestamp() // totp.STEP_SECONDS)


async def _login_form(client, email: str, password: str):
    page = await client.get("/panel/login")
    token = CSRF.search(page.text).group(1)
    return await client.post(
        "/panel/login", data={"csrf": token, "email": email, "password": password}
    )


async def test_a_logged_in_owner_sees_the_dashboard_and_a_stranger_is_sent_to_login(
    panel: Panel,
) -> None:
    page = await panel.get("/panel/")
    assert page.status_code == 200
    assert 'data-testid="balance-main">100<' in page.text
    stranger = await panel.client().get("/panel/?day=today")
    assert stranger.status_code == 303
    assert stranger.headers["location"] == "/panel/login?next=/panel/%3Fday%3Dtoday"


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(panel: Panel) -> None:
    wrong = await _login_form(panel.client(), panel.owner.email, "wrong")
    unknown = await _login_form(panel.client(), "nobody@acme.test", "wrong")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email, password or code is not right." in wrong.text or "hatalı" in wrong.text


async def test_failed_logins_slow_down_per_user(panel: Panel) -> None:
    client = panel.client()
    for _ in range(3):
        assert (await _login_form(client, panel.member.email, "wrong")).status_code == 401
    # The fourth try, even with the right password, must wait.
    throttled = await _login_form(client, panel.member.email, panel.member.password)
    assert throttled.status_code == 429
    panel.clock.advance(1.5)
    assert (await _login_form(client, panel.member.email, panel.member.password)).status_code == 303


async def test_a_form_without_the_sessions_token_changes_nothing(panel: Panel) -> None:
    answer = await panel.owner.client.post("/panel/logout", data={"csrf": "forged"})
    assert answer.status_code == 403
    assert (await panel.get("/panel/")).status_code == 200
    answer = await panel.owner.client.post("/panel/logout")
    assert answer.status_code == 403


async def test_logout_ends_the_session(panel: Panel) -> None:
    assert (await panel.post("/panel/logout")).status_code == 303
    assert (await panel.get("/panel/")).status_code == 303


async def test_an_idle_session_expires(panel: Panel) -> None:
    panel.clock.advance(31 * 60)
    assert (await panel.get("/panel/")).status_code == 303


async def test_session_cookies_are_httponly_and_samesite(panel: Panel) -> None:
    answer = await _login_form(panel.client(), panel.member.email, panel.member.password)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/panel" in cookie


async def test_enrolling_totp_then_logging_in_with_a_code(panel: Panel) -> None:
    client = panel.owner.client
    page = await panel.get("/panel/account/totp")
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0].replace(" ", "")
    wrong = await panel.post("/panel/account/totp", {"code": "123456"})
    assert wrong.status_code == 401
    # The same secret is offered again: the one the user scanned.
    assert secret.replace(" ", "") in wrong.text.replace(" ", "")
    right = await panel.post("/panel/account/totp", {"code": totp.code_at(secret, _step(panel))})
    assert right.status_code == 303
    assert (await client.get("/panel/")).status_code == 200

    fresh = panel.client()
    answer = await _login_form(fresh, panel.owner.email, panel.owner.password)
    assert answer.headers["location"].startswith("/panel/login/code")
    # Half-way in: no page but the code's.
    assert (await fresh.get("/panel/")).status_code == 303
    token = CSRF.search((await fresh.get("/panel/login/code")).text).group(1)
    # The code used for enrolling is spent.
    reused = await fresh.post(
        "/panel/login/code", data={"csrf": token, "code": totp.code_at(secret, _step(panel))}
    )
    assert reused.status_code == 401
    panel.clock.advance(30)
    token = CSRF.search((await fresh.get("/panel/login/code")).text).group(1)
    good = await fresh.post(
        "/panel/login/code", data={"csrf": token, "code": totp.code_at(secret, _step(panel))}
    )
    assert good.status_code == 303
    assert (await fresh.get("/panel/")).status_code == 200


async def test_required_totp_sends_a_user_to_enrol_first(db: Database) -> None:
    async with acme_panel(db, panel_require_totp=True) as panel:
        # acme_panel logged everyone in: each is at the enrolment step.
        page = await panel.get("/panel/")
        assert page.status_code == 303
        assert page.headers["location"] == "/panel/account/totp"


async def test_the_language_follows_the_browser_and_the_switch(panel: Panel) -> None:
    client = panel.owner.client
    english = await client.get("/panel/", headers={"Accept-Language": "en-GB,en;q=0.9,tr;q=0.5"})
    assert '<html lang="en">' in english.text and "Log out" in english.text
    turkish = await client.get("/panel/", headers={"Accept-Language": "tr-TR"})
    assert '<html lang="tr">' in turkish.text and "Çıkış" in turkish.text
    switched = await client.get("/panel/lang/en?next=/panel/")
    assert switched.status_code == 303 and switched.headers["location"] == "/panel/"
    again = await client.get("/panel/", headers={"Accept-Language": "tr-TR"})
    assert '<html lang="en">' in again.text
    elsewhere = await client.get("/panel/lang/tr?next=https://evil.example/")
    assert elsewhere.headers["location"] == "/panel/"


async def test_the_sweeper_forgets_idle_sessions_and_old_failures(panel: Panel) -> None:
    from sqlalchemy import text

    from ileti.dispatch.sweeper import Sweeper

    await _login_form(panel.client(), panel.member.email, "wrong")

    async def rows(table: str) -> int:
        async with panel.db.read() as conn:
            return (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()

    assert await rows("panel_sessions") == 3 and await rows("login_failures") == 2
    sweeper = Sweeper(panel.db, clock=panel.clock, panel_idle_ms=30 * 60_000)
    await sweeper.sweep()
    assert await rows("panel_sessions") == 3 and await rows("login_failures") == 2
    panel.clock.advance(3601)
    await sweeper.sweep()
    assert await rows("panel_sessions") == 0 and await rows("login_failures") == 0


async def test_a_form_larger_than_the_panel_takes_is_refused_before_it_is_read(
    db: Database,
) -> None:
    async with acme_panel(db, campaign_max_bytes=1024) as panel:
        big = await panel.post(
            "/panel/contacts", {"name": "x"}, files={"file": ("a.csv", b"0" * 200_000)}
        )
        assert big.status_code == 413
        assert "Too large" in big.text or "Çok büyük" in big.text
        groups = await panel.services.contacts.groups(panel.account_id)
        assert groups == []
