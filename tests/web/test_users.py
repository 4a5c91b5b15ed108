"""The account's users in the panel: added with a password shown once, a member's password
reset, removed; the last owner stays; the rival's users and members see none of it."""

from __future__ import annotations

import re

from support.panel import CSRF, Panel

NEW_PASSWORD = re.compile(r'data-testid="new-password">([^<]+)<')


async def _emails(panel: Panel, account_id: int) -> list[str]:
    return [u.email for u in await panel.services.users.of_account(account_id)]


async def _can_log_in(panel: Panel, email: str, password: str) -> bool:
    client = panel.client()
    token = CSRF.search((await client.get("/panel/login")).text)
    assert token
    answer = await client.post(
        "/panel/login", data={"csrf": token.group(1), "email": email, "password": password}
    )
    return answer.status_code == 303


async def test_an_owner_adds_a_member_whose_password_is_shown_once(panel: Panel) -> None:
    answer = await panel.post("/panel/users", {"email": " New@Acme.test ", "role": "member"})
    found = NEW_PASSWORD.search(answer.text)
    assert answer.status_code == 200 and found
    assert await _can_log_in(panel, "new@acme.test", found.group(1))
    listed = await panel.get("/panel/users")
    assert "new@acme.test" in listed.text and found.group(1) not in listed.text
    audit = await panel.get("/panel/audit")
    assert 'data-action="user.add"' in audit.text and found.group(1) not in audit.text
    assert panel.owner.email in audit.text

    again = await panel.post("/panel/users", {"email": "new@acme.test", "role": "owner"})
    assert again.status_code == 400 and 'role="alert"' in again.text
    bad = await panel.post("/panel/users", {"email": "not-an-address", "role": "member"})
    assert bad.status_code == 400 and "not-an-address" in bad.text
    assert await _emails(panel, panel.account_id) == [
        "owner@acme.test",
        "member@acme.test",
        "new@acme.test",
    ]


async def test_a_members_password_is_reset_and_an_owners_is_not(panel: Panel) -> None:
    answer = await panel.post("/panel/users/reset", {"email": panel.member.email})
    found = NEW_PASSWORD.search(answer.text)
    assert found
    assert await _can_log_in(panel, panel.member.email, found.group(1))
    assert not await _can_log_in(panel, panel.member.email, panel.member.password)
    # The member's sessions ended.
    assert (await panel.get("/panel/", client=panel.member.client)).status_code == 303

    refused = await panel.post("/panel/users/reset", {"email": panel.owner.email})
    assert refused.status_code == 400 and not NEW_PASSWORD.search(refused.text)
    assert await _can_log_in(panel, panel.owner.email, panel.owner.password)


async def test_removing_asks_first_and_the_last_owner_stays(panel: Panel) -> None:
    confirm = await panel.get(f"/panel/users/remove?email={panel.member.email}")
    assert confirm.status_code == 200 and panel.member.email in confirm.text
    assert panel.member.email in await _emails(panel, panel.account_id)
    removed = await panel.post("/panel/users/remove", {"email": panel.member.email})
    assert removed.status_code == 303
    assert await _emails(panel, panel.account_id) == ["owner@acme.test"]
    assert (await panel.get("/panel/", client=panel.member.client)).status_code == 303

    last = await panel.post("/panel/users/remove", {"email": panel.owner.email})
    assert last.status_code == 400
    assert "last owner" in last.text or "son sahibi" in last.text
    assert await _emails(panel, panel.account_id) == ["owner@acme.test"]
    assert 'data-action="user.remove"' in (await panel.get("/panel/audit")).text


async def test_the_rivals_users_by_form_field_are_not_found_and_unchanged(panel: Panel) -> None:
    rival = panel.rival.email
    assert (await panel.post("/panel/users/reset", {"email": rival})).status_code == 404
    assert (await panel.get(f"/panel/users/remove?email={rival}")).status_code == 404
    assert (await panel.post("/panel/users/remove", {"email": rival})).status_code == 404
    assert await _emails(panel, panel.rival_account_id) == [rival]
    assert await _can_log_in(panel, rival, panel.rival.password)
    assert rival not in (await panel.get("/panel/users")).text


async def test_a_member_gets_404_on_the_users_pages_and_forms(panel: Panel) -> None:
    member = panel.member.client
    assert (await panel.get("/panel/users", client=member)).status_code == 404
    assert (
        await panel.get(f"/panel/users/remove?email={panel.owner.email}", client=member)
    ).status_code == 404
    for path, form in (
        ("/panel/users", {"email": "sneaky@acme.test", "role": "owner"}),
        ("/panel/users/reset", {"email": panel.owner.email}),
        ("/panel/users/remove", {"email": panel.owner.email}),
    ):
        assert (await panel.post(path, form, client=member)).status_code == 404, path
    assert await _emails(panel, panel.account_id) == ["owner@acme.test", "member@acme.test"]
    assert await _can_log_in(panel, panel.owner.email, panel.owner.password)
