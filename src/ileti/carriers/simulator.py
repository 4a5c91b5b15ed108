"""An SMSC that stands in for an operator: in tests, in benchmarks and in ``ileti serve``.

It accepts binds, answers ``submit_sm`` with message ids, sends receipts after a delay with a
configurable mix of outcomes, redelivers the ones not acknowledged, and can throttle, reject,
drop connections and send MO messages. It counts every submit it took, so a test can check
that each message arrived exactly once; with ``stats_file`` it also writes those counts to a
file, for a test that runs it as a process of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import json
import os
import random
import socket
import time
import tomllib
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import count
from pathlib import Path
from typing import Any

import structlog

from ileti.carriers.smpp.pdu import (
    ESM_DELIVERY_RECEIPT,
    MAX_SEQUENCE,
    BindRequest,
    BindResponse,
    CommandId,
    DeliverSm,
    DeliverSmResp,
    EnquireLinkResp,
    FrameSplitter,
    GenericNack,
    MessageState,
    PduError,
    Status,
    SubmitSm,
    SubmitSmResp,
    Tag,
    UnbindResp,
    decode,
    is_response,
)
from ileti.carriers.smpp.session import BindRole
from ileti.carriers.smpp.writer import BatchWriter
from ileti.domain.clock import SYSTEM_CLOCK, Clock

log = structlog.get_logger()
READ_SIZE = 256 * 1024
TICK = 0.005  # granularity of delayed receipts
STATS_EVERY = 0.5  # seconds between writes of the stats file


class IdForm(StrEnum):
    """How the simulator writes a message id; receipts may use another form than responses."""

    DECIMAL = "decimal"
    DECIMAL_PADDED = "decimal-padded"
    HEX = "hex"
    HEX_UPPER = "hex-upper"
    HEX_PADDED = "hex-padded"

    def write(self, number: int) -> str:
        match self:
            case IdForm.DECIMAL:
                return str(number)
            case IdForm.DECIMAL_PADDED:
                return f"{number:016d}"
            case IdForm.HEX:
                return f"{number:x}"
            case IdForm.HEX_UPPER:
                return f"{number:X}"
            case IdForm.HEX_PADDED:
                return f"{number:012X}"


# outcome: receipt stat, message_state, error code
OUTCOMES: dict[str, tuple[str, MessageState, int]] = {
    "delivered": ("DELIVRD", MessageState.DELIVERED, 0),
    "undelivered": ("UNDELIV", MessageState.UNDELIVERABLE, 1),
    "expired": ("EXPIRED", MessageState.EXPIRED, 0),
    "rejected": ("REJECTD", MessageState.REJECTED, 2),
}
NO_RECEIPT = "none"


@dataclass(frozen=True)
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = "ileti-smsc"
    credentials: dict[str, str] = field(default_factory=dict)  # system_id → password; empty: any
    receipt_delay: float = 1.0  # each receipt within this many seconds, uniformly
    outcomes: dict[str, float] = field(default_factory=lambda: {"delivered": 1.0})  # weights
    throttle_rate: float = 0.0  # submits/s above which ESME_RTHROTTLED; 0 is never
    reject_share: float = 0.0
    reject_status: int = Status.ESME_RSUBMITFAIL
    drop_chance: float = 0.0  # per submit, the chance the connection drops unanswered
    id_form: IdForm = IdForm.DECIMAL
    receipt_id_form: IdForm | None = None  # None: as in submit_sm_resp
    receipt_tlvs: bool = True  # receipted_message_id and message_state besides the text
    redeliver_delay: float = 1.0  # before sending again a deliver_sm answered with an error
    seed: int | None = None
    stats_file: str | None = None  # JSON counts written here every STATS_EVERY s and at stop

    def __post_init__(self) -> None:
        unknown = set(self.outcomes) - set(OUTCOMES) - {NO_RECEIPT}
        if unknown:
            raise ValueError(f"unknown outcomes: {', '.join(sorted(unknown))}")
        if not any(weight > 0 for weight in self.outcomes.values()):
            raise ValueError("outcomes need a positive weight")
        object.__setattr__(self, "id_form", IdForm(self.id_form))
        if self.receipt_id_form is not None:
            object.__setattr__(self, "receipt_id_form", IdForm(self.receipt_id_form))

    @classmethod
    def load(cls, path: Path, **overrides: Any) -> SimulatorConfig:
        """From a TOML or JSON file (keys as the fields); ``overrides`` that are not None win."""
        raw = path.read_bytes()
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode())
        return cls.from_mapping(data, **overrides)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], **overrides: Any) -> SimulatorConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown simulator settings: {', '.join(sorted(unknown))}")
        merged = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**merged)


@dataclass
class SimulatorStats:
    received: int = 0  # submit_sm read, whatever became of them
    accepted: int = 0
    rejected: int = 0
    throttled: int = 0
    dropped: int = 0  # read, then lost unanswered with their connection
    receipts_sent: int = 0  # deliver_sm receipts written, redeliveries included
    receipts_acknowledged: int = 0
    mo_sent: int = 0
    mo_acknowledged: int = 0
    binds: int = 0
    binds_refused: int = 0
    unbinds: int = 0
    malformed: int = 0


@dataclass(eq=False)
class _Deliver:
    """A deliver_sm waiting for (or resent until) an acknowledgement."""

    system_id: str
    pdu: DeliverSm
    receipt: bool
    origin: _EsmeConnection | None = None
    acknowledged: asyncio.Future[None] | None = None


class _TokenBucket:
    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self._clock = clock
        self.stamp = clock.monotonic()

    def take(self) -> bool:
        now = self._clock.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class SmscSimulator:
    """Embeddable: ``await SmscSimulator(SimulatorConfig(port=0)).start()``, then ``port`` is
    the port it got, ``stats`` and ``submissions`` what it received; ``await stop()``.

    Its throttling, receipt delays, redeliveries and receipt dates follow ``clock``.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.config = config = config or SimulatorConfig()
        self.clock = clock
        self.stats = SimulatorStats()
        self.submissions: Counter[tuple[str, bytes]] = Counter()  # accepted, by (to, text)
        self.port = config.port
        self._random = random.Random(config.seed)
        self._ids = count(0x1A2B3C00 + self._random.randrange(0x1000000))
        self._receipt_form = config.receipt_id_form or config.id_form
        self._outcome_names = list(config.outcomes)
        self._outcome_weights = list(config.outcomes.values())
        self._bucket = (
            _TokenBucket(config.throttle_rate, clock) if config.throttle_rate > 0 else None
        )
        self._server: asyncio.Server | None = None
        self._connections: set[_EsmeConnection] = set()
        self._receivers: dict[str, list[_EsmeConnection]] = {}
        self._parked: dict[str, deque[_Deliver]] = {}
        self._due: list[tuple[float, int, _Deliver]] = []
        self._due_order = count()
        self._pump: asyncio.Task[None] | None = None
        self._stats_writer: asyncio.Task[None] | None = None
        self._holding = False
        self._held: deque[tuple[_EsmeConnection, SubmitSm]] = deque()
        self._waiters: list[tuple[Callable[[SimulatorStats], bool], asyncio.Future[None]]] = []
        self._date = ("", 0)

    @property
    def host(self) -> str:
        return self.config.host

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.config.host, self.config.port, limit=READ_SIZE
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._pump = asyncio.create_task(self._pump_due())
        if self.config.stats_file is not None:
            self._stats_writer = asyncio.create_task(self._write_stats_often())
        log.info("smsc_listening", host=self.config.host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.close()
        if self._pump is not None:
            self._pump.cancel()
        if self._stats_writer is not None:
            self._stats_writer.cancel()
        if self._server is not None:
            await self._server.wait_closed()
        if self.config.stats_file is not None:
            self.write_stats()

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # control from tests

    async def wait_until(self, predicate: Callable[[SimulatorStats], bool]) -> None:
        """Until ``predicate(stats)`` holds."""
        if predicate(self.stats):
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            await future
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]

    def report(self) -> dict[str, int]:
        """The counters, with the distinct (destination, text) pairs accepted and the
        submits that repeated one."""
        return {
            **dataclasses.asdict(self.stats),
            "unique_submissions": len(self.submissions),
            "duplicate_submissions": sum(self.submissions.values()) - len(self.submissions),
        }

    def write_stats(self) -> None:
        """The report to ``stats_file``, replaced whole so that a reader never sees half."""
        assert self.config.stats_file is not None
        path = Path(self.config.stats_file)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(self.report()))
        os.replace(partial, path)

    async def _write_stats_often(self) -> None:
        while True:
            self.write_stats()
            await asyncio.sleep(STATS_EVERY)

    def hold(self) -> None:
        """Read submits but answer none of them until :meth:`release`."""
        self._holding = True

    def release(self, count: int | None = None) -> None:
        """Answer ``count`` held submits, or all of them and stop holding."""
        if count is None:
            self._holding = False
        while self._held and (count is None or count > 0):
            connection, pdu = self._held.popleft()
            self._answer_submit(connection, pdu)
            if count is not None:
                count -= 1
        self._changed()

    def drop_connections(self) -> None:
        """Close every connection at once, as a crashing SMSC would."""
        for connection in list(self._connections):
            connection.close()
        self._changed()

    async def send_mo(
        self,
        source: str,
        destination: str,
        text: str,
        *,
        system_id: str | None = None,
    ) -> None:
        """Send an inbound message to a bound ESME; returns once it is acknowledged."""
        try:
            body, coding = text.encode("ascii"), 0
        except UnicodeEncodeError:
            body, coding = text.encode("utf-16-be"), 8
        if system_id is None:
            system_id = next((s for s, conns in self._receivers.items() if conns), "")
        pdu = DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=source,
            dest_addr_ton=5 if not destination.isdigit() else 1,
            dest_addr_npi=0 if not destination.isdigit() else 1,
            destination_addr=destination,
            data_coding=coding,
            short_message=body,
        )
        acknowledged = asyncio.get_running_loop().create_future()
        self._route(_Deliver(system_id, pdu, receipt=False, acknowledged=acknowledged))
        await acknowledged

    # connections

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _EsmeConnection(self, reader, writer)
        self._connections.add(connection)
        try:
            await connection.serve()
        finally:
            connection.close()
            self._connections.discard(connection)

    def _bound(self, connection: _EsmeConnection) -> None:
        self.stats.binds += 1
        if connection.role is not None and connection.role.receives:
            self._receivers.setdefault(connection.system_id, []).append(connection)
            parked = self._parked.pop(connection.system_id, None)
            while parked:
                self._route(parked.popleft())

    def _closed(self, connection: _EsmeConnection, unanswered: list[_Deliver]) -> None:
        receivers = self._receivers.get(connection.system_id)
        if receivers and connection in receivers:
            receivers.remove(connection)
        held = [entry for entry in self._held if entry[0] is connection]
        if held:
            self.stats.dropped += len(held)
            self._held = deque(entry for entry in self._held if entry[0] is not connection)
        for deliver in unanswered:
            self._route(deliver)
        self._changed()

    def _changed(self) -> None:
        if not self._waiters:
            return
        for predicate, future in self._waiters:
            if not future.done() and predicate(self.stats):
                future.set_result(None)

    # submits and receipts

    def _on_submit(self, connection: _EsmeConnection, pdu: SubmitSm) -> None:
        self.stats.received += 1
        chance = self.config.drop_chance
        if chance and self._random.random() < chance:
            self.stats.dropped += 1
            connection.close()
            return
        if self._holding:
            self._held.append((connection, pdu))
            return
        self._answer_submit(connection, pdu)

    def _answer_submit(self, connection: _EsmeConnection, pdu: SubmitSm) -> None:
        stats = self.stats
        config = self.config
        if self._bucket is not None and not self._bucket.take():
            stats.throttled += 1
            connection.answer(SubmitSmResp, pdu.sequence_number, Status.ESME_RTHROTTLED)
            return
        if config.reject_share and self._random.random() < config.reject_share:
            stats.rejected += 1
            connection.answer(SubmitSmResp, pdu.sequence_number, config.reject_status)
            return
        number = next(self._ids)
        text = pdu.short_message or pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
        stats.accepted += 1
        self.submissions[(pdu.destination_addr, text)] += 1
        connection.send(
            SubmitSmResp(
                sequence_number=pdu.sequence_number, message_id=config.id_form.write(number)
            ).encode()
        )
        if len(self._outcome_names) == 1:
            outcome = self._outcome_names[0]
        else:
            outcome = self._random.choices(self._outcome_names, self._outcome_weights)[0]
        if outcome == NO_RECEIPT or not pdu.registered_delivery & 0x03:
            return
        deliver = _Deliver(
            connection.system_id,
            self._receipt(pdu, number, outcome, text),
            receipt=True,
            origin=connection,
        )
        delay = config.receipt_delay and self._random.uniform(0, config.receipt_delay)
        if delay:
            due = self.clock.monotonic() + delay
            heapq.heappush(self._due, (due, next(self._due_order), deliver))
        else:
            self._route(deliver)

    def _receipt(self, submit: SubmitSm, number: int, outcome: str, text: bytes) -> DeliverSm:
        stat, state, error = OUTCOMES[outcome]
        receipt_id = self._receipt_form.write(number)
        date = self._now_date()
        preview = text[:20].decode("ascii", errors="replace") if submit.data_coding == 0 else ""
        body = (
            f"id:{receipt_id} sub:001 dlvrd:{'001' if state is MessageState.DELIVERED else '000'}"
            f" submit date:{date} done date:{date} stat:{stat} err:{error:03d} text:{preview}"
        )
        tlvs: dict[int, bytes] = {}
        if self.config.receipt_tlvs:
            tlvs = {
                Tag.RECEIPTED_MESSAGE_ID: receipt_id.encode() + b"\0",
                Tag.MESSAGE_STATE: bytes((state,)),
            }
            if error:
                tlvs[Tag.NETWORK_ERROR_CODE] = bytes((3,)) + error.to_bytes(2, "big")
        return DeliverSm(
            source_addr_ton=submit.dest_addr_ton,
            source_addr_npi=submit.dest_addr_npi,
            source_addr=submit.destination_addr,
            dest_addr_ton=submit.source_addr_ton,
            dest_addr_npi=submit.source_addr_npi,
            destination_addr=submit.source_addr,
            esm_class=ESM_DELIVERY_RECEIPT,
            short_message=body.encode("ascii", errors="replace"),
            tlvs=tlvs,
        )

    def _now_date(self) -> str:
        second = self.clock.now_ms() // 1000
        if self._date[1] != second:
            self._date = (time.strftime("%y%m%d%H%M", time.gmtime(second)), second)
        return self._date[0]

    def _route(self, deliver: _Deliver) -> None:
        """To the connection that submitted it if it can take it, else another of the same
        system_id; parked until one binds if none can."""
        origin = deliver.origin
        if origin is not None and origin.open and origin.role is not None and origin.role.receives:
            origin.deliver(deliver)
            return
        receivers = self._receivers.get(deliver.system_id)
        if receivers:
            receivers.append(receivers.pop(0))
            receivers[-1].deliver(deliver)
            return
        self._parked.setdefault(deliver.system_id, deque()).append(deliver)

    def _redeliver_later(self, deliver: _Deliver) -> None:
        deliver.origin = None
        due = self.clock.monotonic() + self.config.redeliver_delay
        heapq.heappush(self._due, (due, next(self._due_order), deliver))

    def _acknowledged(self, deliver: _Deliver) -> None:
        if deliver.receipt:
            self.stats.receipts_acknowledged += 1
        else:
            self.stats.mo_acknowledged += 1
        if deliver.acknowledged is not None and not deliver.acknowledged.done():
            deliver.acknowledged.set_result(None)

    async def _pump_due(self) -> None:
        due = self._due
        while True:
            await asyncio.sleep(TICK)  # a poll: due times are read on the clock
            now = self.clock.monotonic()
            while due and due[0][0] <= now:
                self._route(heapq.heappop(due)[2])


class _EsmeConnection:
    """One client connection, as the SMSC sees it."""

    def __init__(
        self, smsc: SmscSimulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.smsc = smsc
        self.role: BindRole | None = None
        self.system_id = ""
        self.open = True
        self._reader = reader
        self._out = BatchWriter(writer)
        self.send = self._out.send  # bound once: every PDU goes this way
        self._sequence = 0
        self._unanswered: dict[int, _Deliver] = {}
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def serve(self) -> None:
        splitter = FrameSplitter()
        smsc = self.smsc
        try:
            while self.open:
                data = await self._reader.read(READ_SIZE)
                if not data:
                    return
                try:
                    frames = splitter.feed(data)
                except PduError as error:
                    self._malformed(error)
                    return
                for frame in frames:
                    self._handle(frame)
                    if not self.open:
                        return
                smsc._changed()
        except (ConnectionError, OSError):
            return

    def _handle(self, frame: bytes) -> None:
        try:
            pdu = decode(frame)
        except PduError as error:
            self._malformed(error)
            return
        command_id = pdu.command_id
        if isinstance(pdu, SubmitSm):
            if self.role is None or not self.role.sends:
                self.answer(SubmitSmResp, pdu.sequence_number, Status.ESME_RINVBNDSTS)
            else:
                self.smsc._on_submit(self, pdu)
        elif isinstance(pdu, DeliverSmResp):
            deliver = self._unanswered.pop(pdu.sequence_number, None)
            if deliver is None:
                return
            if pdu.command_status == 0:
                self.smsc._acknowledged(deliver)
            else:
                self.smsc._redeliver_later(deliver)
        elif isinstance(pdu, BindRequest):
            self._bind(pdu)
        elif command_id == CommandId.ENQUIRE_LINK:
            self.send(EnquireLinkResp(sequence_number=pdu.sequence_number).encode())
        elif command_id == CommandId.UNBIND:
            self.smsc.stats.unbinds += 1
            self.send(UnbindResp(sequence_number=pdu.sequence_number).encode())
            self.close()
        elif isinstance(pdu, GenericNack):
            deliver = self._unanswered.pop(pdu.sequence_number, None)
            if deliver is not None:
                self.smsc._redeliver_later(deliver)
        elif not is_response(command_id):
            self.send(
                GenericNack(
                    sequence_number=pdu.sequence_number, command_status=Status.ESME_RINVCMDID
                ).encode()
            )

    def _bind(self, pdu: BindRequest) -> None:
        smsc = self.smsc
        credentials = smsc.config.credentials
        status = Status.ESME_ROK
        if self.role is not None:
            status = Status.ESME_RALYBND
        elif credentials and pdu.system_id not in credentials:
            status = Status.ESME_RINVSYSID
        elif credentials and credentials[pdu.system_id] != pdu.password:
            status = Status.ESME_RINVPASWD
        response = BindResponse(
            sequence_number=pdu.sequence_number,
            command_status=status,
            kind=pdu.kind | 0x80000000,
            system_id=smsc.config.system_id,
        )
        self.send(response.encode())
        if status:
            smsc.stats.binds_refused += 1
            log.info("smsc_bind_refused", system_id=pdu.system_id, status=Status(status).name)
            return
        self.role = {
            CommandId.BIND_TRANSCEIVER: BindRole.TRANSCEIVER,
            CommandId.BIND_TRANSMITTER: BindRole.TRANSMITTER,
            CommandId.BIND_RECEIVER: BindRole.RECEIVER,
        }[CommandId(pdu.kind)]
        self.system_id = pdu.system_id
        smsc._bound(self)

    def _malformed(self, error: PduError) -> None:
        self.smsc.stats.malformed += 1
        if not is_response(error.command_id):
            self.send(
                GenericNack(sequence_number=error.sequence, command_status=error.status).encode()
            )

    def answer(self, kind: type[SubmitSmResp], sequence: int, status: int) -> None:
        self.send(kind(sequence_number=sequence, command_status=status).encode())

    def deliver(self, deliver: _Deliver) -> None:
        self._sequence = sequence = self._sequence % MAX_SEQUENCE + 1
        deliver.pdu.sequence_number = sequence
        self._unanswered[sequence] = deliver
        self.send(deliver.pdu.encode())
        if deliver.receipt:
            self.smsc.stats.receipts_sent += 1
        else:
            self.smsc.stats.mo_sent += 1

    def close(self) -> None:
        if not self.open:
            return
        self.open = False
        self._out.close()
        unanswered = list(self._unanswered.values())
        self._unanswered.clear()
        for deliver in unanswered:
            deliver.origin = None
        self.smsc._closed(self, unanswered)
