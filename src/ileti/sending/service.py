"""The sending service: a send checked, then stored, paid for and queued, or refused whole.

Every door calls it with what it was given and who gave it (the account and key its own
authentication resolved); it answers with an ``Accepted`` or raises the ``GatewayError`` that
refuses the send. Single sends that arrive together are stored together: whatever arrives while
one batch is being written, and until the next batch's transaction has begun (on SQLite, has
its turn to write), forms the next, one transaction with a handful of statements instead of a
dozen statements and a commit each. Groups are one transaction each.

A group of 100,000 numbers is refused before its numbers are read when its account cannot pay
even one segment for each of them, and its recipients are checked a slice of a couple of
milliseconds at a time, the event loop serving other requests between slices.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.codes import GatewayError
from ileti.config import Settings
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.pricing import Balance, amount_text
from ileti.sending import cancelling
from ileti.sending.acceptance import OtpLimits, SendRequest, accept_batch, kept_answer
from ileti.sending.batching import Batcher, Take
from ileti.sending.cancelling import Cancelled
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import (
    MAX_RECIPIENTS,
    GroupDraft,
    GroupSend,
    Order,
    RecipientList,
    SingleSend,
    group_draft,
    single_order,
)
from ileti.sending.refusals import unknown_title
from ileti.sending.results import Accepted
from ileti.store.db import Database
from ileti.store.messages import Payer, account_titles, payer
from ileti.store.prices import prices_for
from ileti.wakeups import Wakeups

# A group's recipients are checked for this much CPU time, and this many at most, before the
# event loop serves others again: a few milliseconds that other requests may wait.
SLICE_SECONDS = 0.002
SLICE_RECIPIENTS = 2_000


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
        self.overload_seconds = settings.overload_seconds
        self.wakeups = wakeups or Wakeups()
        self._limits = OtpLimits(settings.otp_per_number_hour, settings.otp_per_country_hour)
        self._singles: Batcher[SendRequest, Accepted] = Batcher(self._store_singles)

    async def single(self, caller: Caller, send: SingleSend, identity: RequestIdentity) -> Accepted:
        """One text to one number."""
        return await self.accept(
            caller, single_order(send, self.max_segments, self.clock.now()), identity
        )

    async def group(
        self,
        caller: Caller,
        send: GroupSend,
        identity: RequestIdentity,
        *,
        max_recipients: int = MAX_RECIPIENTS,
    ) -> Accepted:
        """One text, or a text each, to up to 100,000 numbers (or ``max_recipients``: a
        campaign's file is bounded by its rows)."""
        # Reading a large body took the event loop for milliseconds: others go first now.
        await asyncio.sleep(0)
        draft = group_draft(send, self.max_segments, self.clock.now(), max_recipients)
        repeated = await self._before_recipients(caller, draft, identity)
        if repeated is not None:
            return repeated
        recipients = RecipientList(draft, self.max_segments)
        while True:
            recipients.check(SLICE_SECONDS, SLICE_RECIPIENTS)
            if recipients.done:
                break
            await asyncio.sleep(0)
        return await self.accept(caller, draft.order(recipients), identity)

    async def _before_recipients(
        self, caller: Caller, draft: GroupDraft, identity: RequestIdentity
    ) -> Accepted | None:
        """What can be told before a group's numbers are read: its first answer when it is a
        repeat, its title's refusal, and the refusal of a group its account cannot pay even
        one segment per recipient for."""
        async with self.db.read() as conn:
            kept = await kept_answer(conn, caller.key_id, identity, self.clock.now_ms())
            if isinstance(kept, GatewayError):
                raise kept
            if kept is not None:
                return kept
            account = await payer(conn, caller.account_id, draft.title)
            if account is None:
                return None  # the transaction refuses it as it would any send
            if account.title_status is None:
                owned = await account_titles(conn, {caller.account_id})
                raise unknown_title(draft.title, owned.get(caller.account_id, ()))
            if account.title_status != "active":
                raise GatewayError(codes.TITLE_INACTIVE)
            if draft.recipients_beyond(account.credits) is None:
                return None
            abroad = await _segments_abroad(conn, caller.account_id, account)
        if abroad is None:
            return None
        capacity = account.credits + abroad
        recipients = draft.recipients_beyond(capacity)
        if recipients is None:
            return None
        held = amount_text(Balance.MAIN, account.credits)
        if abroad:
            held += f" and {amount_text(Balance.INTERNATIONAL, account.international_kurus)}"
            held += f" (at most {abroad:,} segments abroad)"
        needed = (
            "each recipient needs at least 1 credit (a segment)"
            if capacity == 0
            else f"{recipients:,} recipients need at least {amount_text(Balance.MAIN, recipients)}"
            " (a segment each)"
        )
        raise GatewayError(
            codes.INSUFFICIENT_BALANCE, f"Insufficient balance: {needed}; the account has {held}."
        )

    async def accept(self, caller: Caller, order: Order, identity: RequestIdentity) -> Accepted:
        """Store, pay for and queue a checked order."""
        self._refuse_when_overloaded()
        request = SendRequest(caller.account_id, caller.key_id, order, identity)
        if order.grouped:
            outcome: Accepted | Exception = await self._store(request)
        else:
            outcome = await self._singles.submit(request)
        if isinstance(outcome, Exception):
            raise outcome
        self.wakeups.ring(urgent=order.otp is not None)
        return outcome

    async def cancel(
        self, caller: Caller, *, sms_id: int | None = None, group_id: int | None = None
    ) -> Cancelled:
        """Call off what of a message or a group no operator has yet (``sending.cancelling``)."""
        return await cancelling.cancel(
            self.db, self.clock, caller, sms_id=sms_id, group_id=group_id
        )

    async def cancellable(
        self, caller: Caller, *, sms_id: int | None = None, group_id: int | None = None
    ) -> int:
        """How many messages a cancel of this message or group would stop now."""
        return await cancelling.cancellable(self.db, caller, sms_id=sms_id, group_id=group_id)

    def _refuse_when_overloaded(self) -> None:
        waited = self._singles.waited()
        if self.overload_seconds and waited > self.overload_seconds:
            raise GatewayError(
                codes.UNAVAILABLE,
                f"The gateway is overloaded: sends have waited {waited:.1f} s to be stored."
                " Nothing was stored or charged; retry in a second.",
                headers={"Retry-After": "1"},
            )

    async def _store_singles(self, take: Take[SendRequest]) -> Sequence[Accepted | Exception]:
        """Store the single sends waiting once their transaction has begun: on SQLite it
        waits for the one writer, and the sends that come meanwhile go in with the rest. If
        the batch collides with an identical request committed by another process meanwhile,
        each of its requests is stored again on its own."""
        requests: list[SendRequest] = []
        try:
            async with self.db.write(urgent=True, custom_plans=True) as conn:
                requests = take()
                return await accept_batch(conn, requests, self.clock.now_ms(), self._limits)
        except IntegrityError:
            return [await self._store(request) for request in requests]

    async def _store(self, request: SendRequest) -> Accepted | Exception:
        """Store one order in a transaction of its own; once more if it collides with an
        identical request committed by another process meanwhile (it then answers from that
        one's kept response)."""
        # Single sends name their rows by short id lists, planned best for their values; a
        # group's lists of 100,000 numbers would cost more to plan than to run.
        custom_plans = not request.order.grouped
        now_ms = self.clock.now_ms
        try:
            async with self.db.write(urgent=True, custom_plans=custom_plans) as conn:
                outcomes = await accept_batch(conn, [request], now_ms(), self._limits)
        except IntegrityError:
            async with self.db.write(urgent=True, custom_plans=custom_plans) as conn:
                outcomes = await accept_batch(conn, [request], now_ms(), self._limits)
        return outcomes[0]


async def _segments_abroad(conn: AsyncConnection, account_id: int, account: Payer) -> int | None:
    """The most segments the international balance pays for at the account's lowest price
    (None: no bound, a country is free), or 0 without the international switch."""
    if not account.international:
        return 0
    cheapest = min((await prices_for(conn, {account_id}))[account_id].values())
    if cheapest <= 0:
        return None
    return account.international_kurus // cheapest
