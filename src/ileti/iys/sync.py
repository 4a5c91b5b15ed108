"""Keeping each account's consent records and İYS in step.

Push: records added to the gateway (by the API, a file, the panel, a RET reply) go to İYS,
one at a time when few wait (a RET reply is in İYS within seconds), in asynchronous batches
when many do; each ends ``synced`` (with İYS's transaction id) or ``failed`` (with İYS's code
and words); an İYS that cannot be reached leaves them ``pending`` for a later try, backing off.

Pull: citizens' changes (İYS's web site, app, call centre, e-Devlet) are read from the changes
feed from where the last pull stopped, every ``pull_seconds``, and each becomes the record in
force: a citizen's RET stops Advertising from the next request on.

Sending never waits for any of it: a send reads only the records kept here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx
import structlog

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.consent import Consent, ConsentError, Problem
from ileti.iys.answers import Change
from ileti.iys.client import IysAccess, IysClient
from ileti.iys.errors import IysError, IysRejected
from ileti.store import consents as store
from ileti.store.consents import NewConsent, PushOutcome, StoredConsent
from ileti.store.db import Database
from ileti.store.keyring import Keyring

log = structlog.get_logger("ileti.iys")

PUSH_BATCH = 1_000
# Fewer waiting than this go one request each: a RET reply does not wait for a batch's turn.
ONE_BY_ONE = 20
# How often the loop looks for records to push.
PUSH_POLL_SECONDS = 2.0
# An unreachable İYS is tried again after this, doubling per attempt, up to the ceiling.
RETRY_MS = 30_000
MAX_RETRY_MS = 3_600_000
# How long a batch is waited for before its records are asked about again in a later round.
BATCH_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one round did for an account."""

    account_id: int
    pushed: int = 0
    synced: int = 0
    failed: int = 0
    waiting: int = 0  # left pending (İYS unreachable, or still processing)
    pulled: int = 0  # citizens' changes applied
    error: str | None = None


class IysSync:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        *,
        pull_seconds: float = 900.0,
        clock: Clock = SYSTEM_CLOCK,
        http: httpx.AsyncClient | None = None,
        attempts: int = 3,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.pull_seconds = pull_seconds
        self.clock = clock
        self._http = http
        self._attempts = attempts
        # After a failed pull, the next is not tried before this (monotonic seconds).
        self._pull_after: dict[int, float] = {}

    async def run(self) -> None:
        """Push what is due every few seconds, pull every ``pull_seconds``; never stops on
        an error (it is logged and kept on the account for the panel to show)."""
        while True:
            try:
                await self.round(pull_due_only=True)
            except Exception:  # a bad round must not stop the next ones
                log.exception("iys sync round failed")
            await self.clock.sleep(PUSH_POLL_SECONDS)

    async def round(
        self, account_id: int | None = None, *, pull_due_only: bool = False
    ) -> list[SyncReport]:
        """Push and pull once for every account with İYS settings (or just ``account_id``);
        ``pull_due_only``: pull only the accounts whose last pull is ``pull_seconds`` old."""
        async with self.db.read() as conn:
            accounts = await store.every_access(conn)
        reports = []
        for access in accounts:
            if account_id is not None and access.account_id != account_id:
                continue
            reports.append(await self._account(access, pull_due_only))
        return reports

    async def _account(self, access: store.IysAccess, pull_due_only: bool) -> SyncReport:
        now = self.clock.now()
        pull = (
            not pull_due_only
            or access.pulled_at is None
            or now - access.pulled_at >= timedelta(seconds=self.pull_seconds)
        ) and self._pull_after.get(access.account_id, 0.0) <= self.clock.monotonic()
        async with self.db.read() as conn:
            due = await store.due_pushes(conn, access.account_id, self.clock.now_ms(), PUSH_BATCH)
        if not due and not pull:
            return SyncReport(access.account_id)
        client = IysClient(
            IysAccess(
                access.url,
                access.iys_code,
                access.brand_code,
                access.username,
                self.keyring.open(access.password),
            ),
            http=self._http,
            clock=self.clock,
            attempts=self._attempts,
        )
        report = SyncReport(access.account_id)
        try:
            async with client:
                if due:
                    report = await self._push(client, access.account_id, due)
                if pull:
                    pulled = await self._pull(client, access)
                    report = replace(report, pulled=pulled)
        except IysError as error:
            report = replace(report, error=str(error))
            if pull:
                self._pull_after[access.account_id] = self.clock.monotonic() + min(
                    self.pull_seconds, 60.0
                )
        async with self.db.write() as conn:
            await store.record_error(conn, access.account_id, report.error)
        if report.error is not None:
            log.warning("iys sync", account_id=access.account_id, error=report.error)
        return report

    async def _push(
        self, client: IysClient, account_id: int, due: list[StoredConsent]
    ) -> SyncReport:
        now_ms = self.clock.now_ms()
        outcomes: list[PushOutcome] = []
        error = None
        try:
            if len(due) < ONE_BY_ONE:
                for stored in due:
                    outcomes.append(await self._push_one(client, stored))
            else:
                items = await client.add_all(
                    [stored.record for stored in due], max_wait=BATCH_WAIT_SECONDS
                )
                for stored, item in zip(due, items, strict=True):
                    if item.status == "success":
                        outcomes.append(PushOutcome(stored.id, store.SYNCED, item.transaction_id))
                    elif item.status == "failure":
                        outcomes.append(_refused(stored, item.errors))
                    else:
                        outcomes.append(
                            PushOutcome(stored.id, store.PENDING, next_ms=now_ms + RETRY_MS)
                        )
        except IysError as unreachable:  # down, or refusing the gateway's credentials
            error = str(unreachable)
            done = {o.id for o in outcomes}
            outcomes += [
                PushOutcome(stored.id, store.PENDING, error=error, next_ms=_later(stored, now_ms))
                for stored in due
                if stored.id not in done
            ]
        async with self.db.write() as conn:
            await store.record_pushes(conn, outcomes)
            await store.record_push_time(conn, account_id, self.clock.now())
        return SyncReport(
            account_id,
            pushed=len(due),
            synced=sum(o.state == store.SYNCED for o in outcomes),
            failed=sum(o.state == store.FAILED for o in outcomes),
            waiting=sum(o.state == store.PENDING for o in outcomes),
            error=error,
        )

    async def _push_one(self, client: IysClient, stored: StoredConsent) -> PushOutcome:
        try:
            added = await client.add(stored.record)
        except IysRejected as rejected:
            return _refused(stored, rejected.errors)
        return PushOutcome(stored.id, store.SYNCED, added.transaction_id)

    async def _pull(self, client: IysClient, access: store.IysAccess) -> int:
        """Apply citizens' changes from the account's cursor on; how many changed a record."""
        cursor = access.changes_after
        applied = 0
        while True:
            page = await client.changes(cursor)
            applied += await self._apply(access, page.changes)
            cursor = page.after or cursor
            async with self.db.write() as conn:
                await store.record_pull(conn, access.account_id, cursor, self.clock.now())
            if not page.changes or page.after is None:
                return applied
            await asyncio.sleep(0)

    async def _apply(self, access: store.IysAccess, changes: list[Change]) -> int:
        """Each change becomes the record in force, unless it says what that record says."""
        if not changes:
            return 0
        async with self.db.write() as conn:
            await store.lock_account(conn, access.account_id)
            in_force = await store.latest(
                conn,
                access.account_id,
                access.brand_code,
                {change.consent.recipient for change in changes},
            )
            current: dict[tuple[str, str, str], Consent] = {
                key: stored.record for key, stored in in_force.items()
            }
            entries: list[NewConsent] = []
            last_of: dict[tuple[str, str, str], int] = {}  # key → its last entry's place
            for change in changes:
                record = change.consent
                before = current.get(record.key)
                if before is not None and before.status == record.status:
                    continue
                current[record.key] = record
                if record.key in last_of:
                    # Kept as history, no longer in force.
                    earlier = entries[last_of[record.key]]
                    entries[last_of[record.key]] = replace(earlier, latest=False)
                last_of[record.key] = len(entries)
                entries.append(NewConsent(record, "iys", store.PULLED, change.transaction_id))
            superseded = [in_force[key].id for key in last_of if key in in_force]
            await store.append(
                conn, access.account_id, access.brand_code, entries, superseded, self.clock.now()
            )
        return len(last_of)


def _refused(stored: StoredConsent, errors: list[ConsentError]) -> PushOutcome:
    words = "; ".join(f"{e.code} {e.location}: {e.message}" for e in errors) or "refused"
    if errors and all(e.code == Problem.SAME_STATUS for e in errors):
        # İYS's record says what this one says already (another provider sent it, or a try
        # whose answer was lost took it): the two agree.
        return PushOutcome(stored.id, store.SYNCED, error=f"İYS had it already: {words}"[:300])
    return PushOutcome(stored.id, store.FAILED, error=words[:300])


def _later(stored: StoredConsent, now_ms: int) -> int:
    return now_ms + min(RETRY_MS * 2 ** min(stored.sync_attempts, 20), MAX_RETRY_MS)
