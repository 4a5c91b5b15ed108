"""KVKK: what the gateway keeps about a phone number, exported for the person it belongs to or
erased at their request; each recorded in the audit log of every account it touched.

An erasure empties the texts of the messages to the number and puts a keyed hash in place of the
number everywhere but the ledger and the İYS consent records, which are the account's and the
brand's proof and stay as they are. The hash (``x`` and 16 hex digits: never a number, and it
fits where a number did) is the same for the same number, so an erased person's rows still group
together and an export by the number still finds them. Messages to the number still waiting in
the queue are cancelled and refunded first: nothing more goes out from what was queued.

Texts older than ``ILETI_RETENTION_DAYS`` are emptied by the worker's sweeper, not here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.numbers import mask_number
from ileti.metrics import MESSAGES_CANCELLED
from ileti.store import accounts as account_store
from ileti.store import audit, lifecycle
from ileti.store import privacy as store
from ileti.store.db import Database
from ileti.store.keyring import ERASED_NUMBERS, Keyring
from ileti.validation import phone_number

__all__ = ["Privacy"]

# Who the audit log names: these run from the operator's command line.
ACTOR = "operator"


class Privacy:
    def __init__(self, db: Database, keyring: Keyring, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.keyring = keyring
        self.clock = clock

    def erased_form(self, digits: str) -> str:
        """What an erasure keeps in place of the number: the same for the same number."""
        key = self.keyring.derive(ERASED_NUMBERS)
        return "x" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:16]

    async def export(self, number: object, account: str | None = None) -> dict[str, Any]:
        """Everything kept about the number (also under its erased form), per account: in every
        account, or in the one named (NotFound if there is none)."""
        digits = phone_number(number, "number", receiving=False).digits
        erased = self.erased_form(digits)
        async with self.db.read() as conn:
            names = await _scope(conn, account)
            kept = await store.kept(conn, list(names), digits, erased)
        touched = {
            account_id: kept.get(account_id, {})
            for account_id in names
            if account_id in kept or account is not None
        }
        now = self.clock.now()
        if touched:
            async with self.db.write() as conn:
                for account_id, tables in touched.items():
                    found = {table: len(records) for table, records in tables.items()}
                    await _record(conn, account_id, "privacy.export", digits, now, found)
        return {
            "number": digits,
            "erased_as": erased,
            "exported_at": now,
            "accounts": [
                {"account": names[account_id], **tables} for account_id, tables in touched.items()
            ],
        }

    async def erase(self, number: object, account: str | None = None) -> dict[str, int]:
        """Erases the number in every account, or in the one named, in one transaction: how
        many rows of each table changed (``cancelled``: queued messages called off first).

        TS-1051, having changed nothing, while a dispatcher holds a message to the number (it
        is being handed to an operator): erasing it then would send the hash.
        """
        digits = phone_number(number, "number", receiving=False).digits
        erased = self.erased_form(digits)
        now = self.clock.now()
        async with self.db.write(urgent=True) as conn:
            names = await _scope(conn, account)
            changed = {"cancelled": await _cancel_queued(conn, list(names), digits, now)}
            changed |= await store.erase(conn, list(names), digits, erased, now)
            touched = {account_id for counts in changed.values() for account_id in counts}
            if account is not None:
                touched |= set(names)
            changed["campaign_uploads"] = await store.forget_uploads(conn, sorted(touched))
            for account_id in sorted(touched):
                counts = {table: per[account_id] for table, per in changed.items()}
                await _record(conn, account_id, "privacy.erase", digits, now, counts)
        MESSAGES_CANCELLED.inc(changed["cancelled"].total())
        return {table: per.total() for table, per in changed.items()}


async def _scope(conn: AsyncConnection, account: str | None) -> dict[int, str]:
    """The accounts a call covers: id → name."""
    if account is not None:
        found = await account_store.find_account(conn, account)
        return {found.id: found.name}
    return {each.id: each.name for each in await account_store.list_accounts(conn)}


async def _cancel_queued(
    conn: AsyncConnection, account_ids: list[int], digits: str, now: datetime
) -> Counter[int]:
    """Calls off the accounts' messages to the number that wait in the queue (refunded and
    announced as any cancel is); per account, how many."""
    queued = await store.queued_to(conn, account_ids, digits)
    cancelled: Counter[int] = Counter()
    for row in queued:
        moved = await lifecycle.cancel(conn, row["account_id"], now, message_id=row["id"])
        cancelled[row["account_id"]] += len(moved)
    if cancelled.total() < len(queued):
        raise GatewayError(
            codes.UNAVAILABLE,
            "A message to this number is being handed to an operator right now; nothing was"
            " erased. Erase it again in a minute.",
        )
    return cancelled


async def _record(
    conn: AsyncConnection,
    account_id: int,
    action: str,
    digits: str,
    now: datetime,
    counts: Mapping[str, int],
) -> None:
    """The audit entry: the number masked, never whole, and what was found or changed."""
    detail = ", ".join(f"{table} {count}" for table, count in counts.items() if count)
    await audit.add(
        conn, account_id, ACTOR, action, mask_number(digits), now, detail or "nothing kept"
    )
