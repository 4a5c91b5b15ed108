"""The sending service: a send checked, then stored, paid for and queued, or refused whole.

Every door calls it with what it was given and who gave it (the account and key its own
authentication resolved); it answers with an ``Accepted`` or raises the ``GatewayError`` that
refuses the send. Single sends that arrive together are stored together: whatever arrives while
one batch is being written forms the next, one transaction with a handful of statements
instead of a dozen statements and a commit each. Groups are one transaction each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from ileti.config import Settings
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.sending.acceptance import OtpLimits, SendRequest, accept_batch
from ileti.sending.batching import Batcher
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import GroupSend, Order, SingleSend, group_order, single_order
from ileti.sending.results import Accepted
from ileti.store.db import Database
from ileti.wakeups import Wakeups


class Caller(Protocol):
    """Whom a send is for: the account that pays, and the key whose webhook hears of it."""

    @property
    def account_id(self) -> int: ...

    @property
    def key_id(self) -> int: ...


class Sending:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Clock = SYSTEM_CLOCK,
        wakeups: Wakeups | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.max_segments = settings.max_segments
        self.wakeups = wakeups or Wakeups()
        self._limits = OtpLimits(settings.otp_per_number_hour, settings.otp_per_country_hour)
        self._singles: Batcher[SendRequest, Accepted] = Batcher(self._store)

    async def single(self, caller: Caller, send: SingleSend, identity: RequestIdentity) -> Accepted:
        """One text to one number."""
        return await self.accept(
            caller, single_order(send, self.max_segments, self.clock.now()), identity
        )

    async def group(self, caller: Caller, send: GroupSend, identity: RequestIdentity) -> Accepted:
        """One text, or a text each, to up to 100,000 numbers."""
        return await self.accept(
            caller, group_order(send, self.max_segments, self.clock.now()), identity
        )

    async def accept(self, caller: Caller, order: Order, identity: RequestIdentity) -> Accepted:
        """Store, pay for and queue a checked order."""
        request = SendRequest(caller.account_id, caller.key_id, order, identity)
        if order.grouped:
            outcome: Accepted | Exception = (await self._store([request]))[0]
        else:
            outcome = await self._singles.submit(request)
        if isinstance(outcome, Exception):
            raise outcome
        self.wakeups.ring(urgent=order.otp is not None)
        return outcome

    async def _store(self, requests: list[SendRequest]) -> Sequence[Accepted | Exception]:
        """Store a batch in one transaction. If it collides with an identical request committed
        by another process meanwhile, each request is stored again on its own (and that one then
        answers from the other's kept response)."""
        # Single sends name their rows by short id lists, planned best for their values; a
        # group's lists of 100,000 numbers would cost more to plan than to run.
        custom_plans = not requests[0].order.grouped
        try:
            async with self.db.write(urgent=True, custom_plans=custom_plans) as conn:
                return await accept_batch(conn, requests, self.clock.now_ms(), self._limits)
        except IntegrityError:
            if len(requests) == 1:
                async with self.db.write(urgent=True, custom_plans=custom_plans) as conn:
                    return await accept_batch(conn, requests, self.clock.now_ms(), self._limits)
            return [(await self._store([request]))[0] for request in requests]
