"""A carrier reached over SMPP: several binds kept up, parts spread over them, receipts and
inbound messages turned into domain objects."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta

import structlog

from ileti.carriers import metrics
from ileti.carriers.base import (
    DeliveryReceipt,
    InboundMessage,
    OutboundMessage,
    PartResult,
    ReceiptState,
    Received,
    SubmitError,
    SubmitErrorKind,
    SubmitPart,
)
from ileti.carriers.config import BindMode, CarrierConfig
from ileti.carriers.pacing import Pacer
from ileti.carriers.receipts import is_receipt, read_inbound, read_receipt
from ileti.carriers.smpp.pdu import (
    ESM_UDHI,
    MAX_SHORT_MESSAGE,
    REGISTERED_DELIVERY_FINAL,
    DeliverSm,
    PduError,
    Status,
    SubmitSm,
    SubmitSmResp,
    Tag,
    status_name,
)
from ileti.carriers.smpp.session import (
    BindLost,
    BindRefused,
    BindRole,
    MalformedResponse,
    ResponseTimeout,
    SessionError,
    SmppSession,
)
from ileti.domain.clock import SYSTEM_CLOCK, Clock

log = structlog.get_logger()

_KIND_BY_STATUS: dict[int, SubmitErrorKind] = {
    Status.ESME_RTHROTTLED: SubmitErrorKind.THROTTLED,
    Status.ESME_RMSGQFUL: SubmitErrorKind.QUEUE_FULL,
    # The SMSC's own trouble, not the message's: worth another try.
    Status.ESME_RSYSERR: SubmitErrorKind.TEMPORARY,
    Status.ESME_RX_T_APPN: SubmitErrorKind.TEMPORARY,
    Status.ESME_RINVDSTADR: SubmitErrorKind.INVALID_DESTINATION,
    Status.ESME_RINVDSTTON: SubmitErrorKind.INVALID_DESTINATION,
    Status.ESME_RINVDSTNPI: SubmitErrorKind.INVALID_DESTINATION,
    Status.ESME_RINVSRCADR: SubmitErrorKind.INVALID_SOURCE,
    Status.ESME_RINVSRCTON: SubmitErrorKind.INVALID_SOURCE,
    Status.ESME_RINVSRCNPI: SubmitErrorKind.INVALID_SOURCE,
}
_BACK_OFF_STATUSES = frozenset({Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL})


def classify(status: int) -> SubmitErrorKind:
    """The kind of a refused submit_sm; anything not known to be passing is permanent."""
    return _KIND_BY_STATUS.get(status, SubmitErrorKind.REJECTED)


def relative_validity(validity: timedelta) -> str:
    """SMPP relative time ``YYMMDDhhmmss000R``; days beyond 99 are capped."""
    seconds = max(0, int(validity.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"0000{min(days, 99):02d}{hours:02d}{minutes:02d}{seconds:02d}000R"


def address_type(address: str) -> tuple[int, int]:
    """TON and NPI: international digits (1, 1), an alphanumeric sender ID (5, 0)."""
    return (1, 1) if address.isdigit() else (5, 0)


class CarrierBind:
    """One SMPP connection of a carrier, kept bound: it reconnects with backoff and jitter,
    paces its sends and pauses when the SMSC says it is throttled or full, all on the
    carrier's clock. The session's own deadlines run on real time: they wait for a peer."""

    def __init__(self, carrier: SmppCarrier, role: BindRole, index: int) -> None:
        self.config = config = carrier.config
        self.role = role
        self.name = f"{role.value}-{index}"
        self.session: SmppSession | None = None
        self.up = asyncio.Event()
        self._carrier = carrier
        self._clock = clock = carrier.clock
        self._pacer = Pacer(config.rate_per_bind, clock=clock) if config.rate_per_bind > 0 else None
        self._paused_until = 0.0
        self._throttle_delay = config.throttle_backoff
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._log = log.bind(carrier=config.name, bind=self.name)
        self._random = random.Random()
        metrics.WINDOW_IN_USE.labels(config.name, self.name).set_function(lambda: self.in_flight)

    @property
    def in_flight(self) -> int:
        session = self.session
        return session.in_flight if session is not None else 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self.config.name}:{self.name}")

    async def stop(self, drain_timeout: float) -> None:
        self._stopping = True
        if self.session is not None:
            await self.session.unbind(drain_timeout)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def ready(self) -> bool:
        """Whether a submit may go at once: no rate to keep and no pause to wait out."""
        # Every submit asks: a bind never paused spares itself the clock.
        paused_until = self._paused_until
        return self._pacer is None and (not paused_until or paused_until <= self._clock.monotonic())

    async def wait_turn(self) -> None:
        if self._pacer is not None:
            await self._pacer.wait()
        pause = self._paused_until - self._clock.monotonic()
        if pause > 0:
            await self._clock.sleep(pause)

    def observe(self, status: int) -> None:
        """Back off after ESME_RTHROTTLED or ESME_RMSGQFUL; a success ends the doubling."""
        if status in _BACK_OFF_STATUSES:
            self._back_off(status)
        elif status == 0:
            self._throttle_delay = self.config.throttle_backoff

    def _back_off(self, status: int) -> None:
        now = self._clock.monotonic()
        if now < self._paused_until:
            return  # answers to sends made before the pause began
        self._paused_until = now + self._throttle_delay
        self._log.warning(
            "smpp_back_off", status=status_name(status), pause_seconds=self._throttle_delay
        )
        self._throttle_delay = min(self._throttle_delay * 2, self.config.throttle_backoff_max)

    async def _run(self) -> None:
        config = self.config
        failures = 0
        binds_up = metrics.BINDS_UP.labels(config.name)
        while not self._stopping:
            reason = await self._connect_and_serve(binds_up)
            if self._stopping:
                break
            if reason is None:
                failures = 0  # it was bound: come back quickly, but never at once
            else:
                metrics.BIND_FAILURES.labels(config.name, reason).inc()
            delay = min(config.reconnect_max, config.reconnect_min * 2**failures)
            delay = delay / 2 + self._random.uniform(0, delay / 2)
            failures += 1
            if reason is not None:
                self._log.error("smpp_bind_failed", reason=reason, retry_in=round(delay, 3))
            await self._clock.sleep(delay)

    async def _connect_and_serve(self, binds_up: metrics.Gauge) -> str | None:
        """Connect, bind and serve until the connection ends; the failure reason, if any."""
        config = self.config
        try:
            session = await SmppSession.open(
                config.host,
                config.port,
                connect_timeout=config.connect_timeout,
                window=config.window,
                response_timeout=config.response_timeout,
                enquire_link_interval=config.enquire_link_interval,
                on_deliver=self._carrier.on_deliver,
                on_malformed=self._malformed,
            )
        except (OSError, TimeoutError) as error:
            self._log.warning("smpp_connect_failed", error=str(error) or type(error).__name__)
            return "connect"
        try:
            smsc = await session.bind(
                self.role, config.system_id, config.password, config.system_type
            )
        except BindRefused as refused:
            session.close("bind refused")
            return status_name(refused.status)
        except SessionError as error:
            session.close("bind failed")
            return "bind_lost" if isinstance(error, BindLost) else "bind_timeout"
        except asyncio.CancelledError:
            session.close("stopped while binding")
            raise
        self.session = session
        self.up.set()
        binds_up.inc()
        self._log.info("smpp_bound", smsc=smsc, role=self.role.value)
        try:
            why = await asyncio.shield(session.done)
        finally:
            self.up.clear()
            self.session = None
            binds_up.dec()
        if not self._stopping:
            self._log.warning("smpp_bind_lost", reason=why)
        return None

    def _malformed(self, error: PduError) -> None:
        metrics.MALFORMED.labels(self.config.name).inc()


class SmppCarrier:
    """The carrier the dispatcher uses: ``start()``; ``submit(message)`` gives a
    :class:`PartResult` per part; ``receive()``, ``receive_many()`` or ``received()`` give
    receipts and inbound messages, each to be ``accept()``-ed once stored; ``stop()``.

    Pacing, the binds' pauses after throttling and their reconnect backoff follow ``clock``.
    """

    def __init__(self, config: CarrierConfig, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.name = config.name
        self.clock = clock
        roles = (
            [BindRole.TRANSCEIVER]
            if config.bind_mode is BindMode.TRANSCEIVER
            else [BindRole.TRANSMITTER, BindRole.RECEIVER]
        )
        self.binds = [CarrierBind(self, role, i) for i in range(config.binds) for role in roles]
        self._senders = [bind for bind in self.binds if bind.role.sends]
        self._pacer = Pacer(config.rate, clock=clock) if config.rate > 0 else None
        self._inbox: asyncio.Queue[Received] = asyncio.Queue(config.inbox_size)
        self._turn = 0
        self._outcomes = {
            outcome: metrics.SUBMITS.labels(config.name, outcome)
            for outcome in ["ok", *SubmitErrorKind]
        }
        self._receipt_counts = {
            state: metrics.RECEIPTS.labels(config.name, state.value) for state in ReceiptState
        }
        self._inbound_count = metrics.INBOUND.labels(config.name)

    async def __aenter__(self) -> SmppCarrier:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start binding in the background; :meth:`wait_bound` waits for it."""
        for bind in self.binds:
            bind.start()

    async def wait_bound(self) -> None:
        """Until every bind is up."""
        for bind in self.binds:
            await bind.up.wait()

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Let outstanding submits finish, unbind every bind, close."""
        await asyncio.gather(*(bind.stop(drain_timeout) for bind in self.binds))

    async def submit(self, message: OutboundMessage) -> list[PartResult]:
        if len(message.parts) == 1:
            return [await self._submit_part(message, message.parts[0])]
        return list(
            await asyncio.gather(*(self._submit_part(message, part) for part in message.parts))
        )

    async def receive(self) -> Received:
        return await self._inbox.get()

    async def receive_many(
        self, limit: int = 500, gather: float = 0.0, step: float = 0.005
    ) -> list[Received]:
        """At least one, and as many more as are waiting (up to ``limit``): for consumers
        that store a batch at a time. With ``gather``, the batch waits up to that many
        seconds for more while they keep coming: every ``step`` that brought none ends it, so
        an operator that sends no more before its last ones are acknowledged (a window) is
        not kept waiting."""
        inbox = self._inbox
        batch = [await inbox.get()]
        _take_waiting(inbox, batch, limit)
        clock = asyncio.get_running_loop().time
        deadline = clock() + gather
        try:
            while len(batch) < limit and clock() + step <= deadline:
                await asyncio.sleep(step)
                if not _take_waiting(inbox, batch, limit):
                    break
        except asyncio.CancelledError:
            for received in batch:
                received.refuse()  # the operator sends them again
            raise
        return batch

    async def received(self) -> AsyncIterator[Received]:
        while True:
            yield await self._inbox.get()

    async def _submit_part(self, message: OutboundMessage, part: SubmitPart) -> PartResult:
        bind = self._pick() or await self._wait_for_bind()
        if bind is None:
            return self._failed(SubmitErrorKind.BIND_LOST, detail="no bind up")
        if self._pacer is not None:
            await self._pacer.wait()
        if not bind.ready():
            await bind.wait_turn()
        session = bind.session
        try:
            if session is None:
                raise BindLost("not bound")
            answer = await session.submit(_submit_sm(message, part), message.urgent)
        except BindLost as error:
            return self._failed(SubmitErrorKind.BIND_LOST, detail=str(error))
        except ResponseTimeout as error:
            return self._failed(SubmitErrorKind.TIMEOUT, detail=str(error))
        except MalformedResponse as error:
            return self._failed(SubmitErrorKind.TEMPORARY, detail=str(error))
        status = answer.command_status
        bind.observe(status)
        if status == 0 and isinstance(answer, SubmitSmResp):
            self._outcomes["ok"].inc()
            return PartResult(message_id=answer.message_id)
        return self._failed(classify(status), status=status, detail=status_name(status))

    def _failed(
        self, kind: SubmitErrorKind, *, status: int | None = None, detail: str = ""
    ) -> PartResult:
        self._outcomes[kind].inc()
        return PartResult(error=SubmitError(kind, status, detail))

    def _pick(self) -> CarrierBind | None:
        """The bound sender with the most room in its window, taking turns on ties."""
        senders = self._senders
        count = len(senders)
        self._turn = turn = (self._turn + 1) % count
        best: CarrierBind | None = None
        best_load = 0
        for offset in range(count):
            bind = senders[(turn + offset) % count]
            if bind.session is None:
                continue
            load = bind.in_flight
            if best is None or load < best_load:
                best, best_load = bind, load
        return best

    async def _wait_for_bind(self) -> CarrierBind | None:
        waits = [asyncio.ensure_future(bind.up.wait()) for bind in self._senders]
        try:
            await asyncio.wait(
                waits, timeout=self.config.response_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for wait in waits:
                wait.cancel()
        return self._pick()

    def on_deliver(self, session: SmppSession, pdu: DeliverSm) -> Awaitable[None] | None:
        """A deliver_sm from any bind: queue it for the consumer, whose word answers it."""
        item: DeliveryReceipt | InboundMessage | None
        if is_receipt(pdu.esm_class, pdu.tlvs):
            item = read_receipt(self.name, pdu.short_message, pdu.tlvs)
            if item is None:
                # Acknowledged all the same: asking again would bring the same unreadable PDU.
                log.warning("smpp_receipt_without_id", carrier=self.name)
                session.answer_deliver(pdu.sequence_number)
                return None
            self._receipt_counts[item.state].inc()
        else:
            item = read_inbound(
                self.name,
                pdu.source_addr,
                pdu.destination_addr,
                pdu.esm_class,
                pdu.data_coding,
                pdu.short_message,
                pdu.tlvs,
            )
            self._inbound_count.inc()
        received = Received(item, _Answer(session, pdu.sequence_number))
        if self._inbox.full():
            return self._inbox.put(received)  # the consumer is behind: stop reading meanwhile
        self._inbox.put_nowait(received)
        return None


class _Answer:
    """Answers one deliver_sm once, however often the consumer calls."""

    __slots__ = ("_sequence", "_session")

    def __init__(self, session: SmppSession, sequence: int) -> None:
        self._session: SmppSession | None = session
        self._sequence = sequence

    def __call__(self, accepted: bool) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.answer_deliver(
                self._sequence, Status.ESME_ROK if accepted else Status.ESME_RX_T_APPN
            )


def _submit_sm(message: OutboundMessage, part: SubmitPart) -> SubmitSm:
    source_ton, source_npi = address_type(message.source)
    text = part.short_message
    tlvs: dict[int, bytes] = {}
    if len(text) > MAX_SHORT_MESSAGE:
        tlvs[Tag.MESSAGE_PAYLOAD] = text
        text = b""
    return SubmitSm(
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        source_addr=message.source,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=message.destination,
        esm_class=ESM_UDHI if part.udhi else 0,
        registered_delivery=REGISTERED_DELIVERY_FINAL,
        data_coding=part.data_coding,
        validity_period=relative_validity(message.validity) if message.validity else "",
        short_message=text,
        tlvs=tlvs,
    )


def _take_waiting(inbox: asyncio.Queue[Received], batch: list[Received], limit: int) -> int:
    """Moves what waits in ``inbox`` onto ``batch``, up to ``limit`` in all; how many."""
    taken = 0
    while len(batch) < limit and not inbox.empty():
        batch.append(inbox.get_nowait())
        taken += 1
    return taken
