"""The audit log in the panel: the account's own changes, newest first, a page at a time."""

from __future__ import annotations

import re

from ileti.store import audit
from ileti.store.db import Database
from support.panel import acme_panel

ACTION = re.compile(r'data-action="([^"]+)"')
OLDER = re.compile(r'href="/panel/audit\?before=(\d+)"')


async def test_entries_are_newest_first_paged_and_only_the_accounts_own(db: Database) -> None:
    async with acme_panel(db) as panel:
        async with db.write() as conn:
            for n in range(60):
                panel.clock.advance(1)
                await audit.add(
                    conn,
                    panel.account_id,
                    "owner@acme.test",
                    "key.create",
                    f"ilt_{n:04}",
                    panel.clock.now(),
                    "check_balance",
                )
            await audit.add(
                conn,
                panel.rival_account_id,
                "owner@rival.test",
                "key.revoke",
                "ilt_rival",
                panel.clock.now(),
            )
        first = await panel.get("/panel/audit")
        assert first.status_code == 200
        subjects = re.findall(r"<code>(ilt_\d+)</code>", first.text)
        assert subjects == [f"ilt_{n:04}" for n in range(59, 9, -1)]
        assert "ilt_rival" not in first.text
        older = OLDER.search(first.text)
        assert older
        second = await panel.get(f"/panel/audit?before={older.group(1)}")
        subjects = re.findall(r"<code>(ilt_\d+)</code>", second.text)
        assert subjects == [f"ilt_{n:04}" for n in range(9, -1, -1)]
        # Then the two users the operator added; no page after.
        assert ACTION.findall(second.text)[-3:] == ["key.create", "user.add", "user.add"]
        assert not OLDER.search(second.text)
        assert (await panel.get("/panel/audit", client=panel.member.client)).status_code == 404
