"""One SMPP connection from the gateway's side: bind, a window of outstanding submit_sm,
enquire_link, unbind. It knows PDUs and sockets, not messages or retries."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum

import structlog

from ileti.carriers.smpp.pdu import (
    MAX_SEQUENCE,
    BindRequest,
    BindResponse,
    CommandId,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    FrameSplitter,
    GenericNack,
    Pdu,
    PduError,
    Status,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    decode,
    is_response,
    status_name,
)
from ileti.carriers.smpp.writer import BatchWriter

log = structlog.get_logger()
READ_SIZE = 256 * 1024


class BindRole(StrEnum):
    TRANSCEIVER = "transceiver"
    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"

    @property
    def sends(self) -> bool:
        return self is not BindRole.RECEIVER

    @property
    def receives(self) -> bool:
        return self is not BindRole.TRANSMITTER


_BIND_COMMAND = {
    BindRole.TRANSCEIVER: CommandId.BIND_TRANSCEIVER,
    BindRole.TRANSMITTER: CommandId.BIND_TRANSMITTER,
    BindRole.RECEIVER: CommandId.BIND_RECEIVER,
}


class SessionError(Exception):
    pass


class BindLost(SessionError):
    """The connection ended before an answer came: the request may or may not have arrived."""


class ResponseTimeout(SessionError):
    """No answer within the response timeout."""


class MalformedResponse(SessionError):
    """The answer could not be read: the request may or may not have been taken."""


class BindRefused(SessionError):
    def __init__(self, status: int) -> None:
        super().__init__(f"bind refused: {status_name(status)}")
        self.status = status


# Handed each deliver_sm; returns an awaitable only when the reader must wait (back-pressure).
DeliverHandler = Callable[["SmppSession", DeliverSm], Awaitable[None] | None]


class SmppSession:
    """A connected SMPP session over asyncio streams, from the ESME side.

    Writes are gathered and sent once per loop turn, and ``TCP_NODELAY`` is set: without it,
    receipts flowing on the same bind stall each answer behind Nagle and delayed ACKs.

    Response deadlines and the enquire_link timer run on real time, not on the carrier's
    clock: they wait for a peer across a socket, and a test clock that jumps ahead for a
    pacing or backoff sleep must not expire an answer still on its way.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        window: int = 50,
        response_timeout: float = 10.0,
        enquire_link_interval: float = 30.0,
        on_deliver: DeliverHandler | None = None,
        on_malformed: Callable[[PduError], None] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._timeout = response_timeout
        self._enquire_interval = enquire_link_interval
        self._on_deliver = on_deliver
        self._on_malformed = on_malformed
        self._window_free = window
        self._window_waiters: deque[asyncio.Future[None]] = deque()
        self._sequence = 0
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._deadlines: deque[tuple[float, int]] = deque()
        self._out = BatchWriter(writer)
        self._send = self._out.send  # bound once: every PDU goes this way
        self._closed = False
        self._draining = False
        self._last_received = time.monotonic()
        self.in_flight = 0  # submits waiting for the window or for their answer
        self.done: asyncio.Future[str] = self._loop.create_future()  # result: why it ended
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks = [
            asyncio.create_task(self._read_loop()),
            asyncio.create_task(self._expire_loop()),
        ]
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        connect_timeout: float = 10.0,
        window: int = 50,
        response_timeout: float = 10.0,
        enquire_link_interval: float = 30.0,
        on_deliver: DeliverHandler | None = None,
        on_malformed: Callable[[PduError], None] | None = None,
    ) -> SmppSession:
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(host, port, limit=READ_SIZE)
        return cls(
            reader,
            writer,
            window=window,
            response_timeout=response_timeout,
            enquire_link_interval=enquire_link_interval,
            on_deliver=on_deliver,
            on_malformed=on_malformed,
        )

    @property
    def closed(self) -> bool:
        return self._closed

    # requests from our side

    async def bind(
        self, role: BindRole, system_id: str, password: str, system_type: str = ""
    ) -> str:
        """Bind; the SMSC's system_id on success, :class:`BindRefused` otherwise."""
        answer = await self._call(
            BindRequest(
                kind=_BIND_COMMAND[role],
                system_id=system_id,
                password=password,
                system_type=system_type,
            )
        )
        if answer.command_status != 0 or not isinstance(answer, BindResponse):
            raise BindRefused(answer.command_status or Status.ESME_RBINDFAIL)
        self._tasks.append(asyncio.create_task(self._keepalive_loop()))
        return answer.system_id

    async def submit(self, pdu: SubmitSm, urgent: bool = False) -> SubmitSmResp | GenericNack:
        """Send one submit_sm within the window and wait for its answer; an urgent one takes
        the next free slot before those already waiting."""
        self.in_flight += 1
        self._idle.clear()
        try:
            if self._window_free > 0:
                self._window_free -= 1
            else:
                await self._wait_for_window(urgent)
            try:
                if self._closed or self._draining:
                    raise BindLost("session closing")
                answer = await self._call(pdu)
            finally:
                self._release_window()
            if isinstance(answer, SubmitSmResp | GenericNack):
                return answer
            raise MalformedResponse(f"answered with command 0x{answer.command_id:08X}")
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def _wait_for_window(self, urgent: bool) -> None:
        waiter = self._loop.create_future()
        if urgent:
            self._window_waiters.appendleft(waiter)
        else:
            self._window_waiters.append(waiter)
        try:
            await waiter  # the slot is handed over by _release_window
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release_window()
            raise

    def _release_window(self) -> None:
        waiters = self._window_waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._window_free += 1

    def answer_deliver(self, sequence: int, status: int = Status.ESME_ROK) -> None:
        """Acknowledge (or, with an error status, ask again later for) a deliver_sm."""
        self._send(DeliverSmResp(sequence_number=sequence, command_status=status).encode())

    async def unbind(self, drain_timeout: float = 5.0) -> None:
        """Let outstanding submits finish, unbind, close."""
        if self._closed:
            return
        self._draining = True
        try:
            async with asyncio.timeout(drain_timeout):
                await self._idle.wait()
            await self._call(Unbind())
        except (TimeoutError, SessionError):
            pass
        self.close("unbound")
        await self.wait_closed()

    def close(self, reason: str = "closed") -> None:
        if self._closed:
            return
        self._closed = True
        self._out.close()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(BindLost(reason))
        self._deadlines.clear()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if not self.done.done():
            self.done.set_result(reason)

    async def wait_closed(self) -> None:
        await asyncio.shield(self.done)
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    # plumbing

    def _call(self, pdu: Pdu) -> asyncio.Future[Pdu]:
        if self._closed:
            raise BindLost("session closed")
        # Sequence numbers run 1..0x7FFFFFFF and start again: a bind may live for days.
        self._sequence = sequence = self._sequence % MAX_SEQUENCE + 1
        pdu.sequence_number = sequence
        future = self._loop.create_future()
        self._pending[sequence] = future
        self._deadlines.append((time.monotonic() + self._timeout, sequence))
        self._send(pdu.encode())
        return future

    async def _read_loop(self) -> None:
        splitter = FrameSplitter()
        reason = "connection lost"
        try:
            while True:
                data = await self._reader.read(READ_SIZE)
                if not data:
                    break
                self._last_received = time.monotonic()
                try:
                    frames = splitter.feed(data)
                except PduError as error:
                    # No trustworthy frame boundary is left: answer and start afresh.
                    self._malformed(error)
                    reason = "malformed stream"
                    break
                for frame in frames:
                    try:
                        pdu = decode(frame)
                    except PduError as error:
                        self._malformed(error)
                        continue
                    if isinstance(pdu, DeliverSm):
                        if self._on_deliver is None:
                            self.answer_deliver(pdu.sequence_number, Status.ESME_RX_T_APPN)
                        elif (waiting := self._on_deliver(self, pdu)) is not None:
                            await waiting
                    else:
                        self._dispatch(pdu)
                    if self._closed:
                        return
        except (ConnectionError, OSError):
            pass
        self.close(reason)

    def _malformed(self, error: PduError) -> None:
        log.warning(
            "smpp_malformed_pdu",
            reason=str(error),
            command_id=f"0x{error.command_id:08X}",
            sequence=error.sequence,
        )
        if self._on_malformed is not None:
            self._on_malformed(error)
        if is_response(error.command_id):
            # One does not answer an answer; the request it settles failed unread.
            future = self._pending.pop(error.sequence, None)
            if future is not None and not future.done():
                future.set_exception(MalformedResponse(str(error)))
        else:
            self._send(
                GenericNack(sequence_number=error.sequence, command_status=error.status).encode()
            )

    def _dispatch(self, pdu: Pdu) -> None:
        command_id = pdu.command_id
        if is_response(command_id):
            future = self._pending.pop(pdu.sequence_number, None)
            if future is not None and not future.done():
                future.set_result(pdu)
            elif command_id == CommandId.GENERIC_NACK:
                log.warning("smpp_generic_nack", status=status_name(pdu.command_status))
        elif command_id == CommandId.ENQUIRE_LINK:
            self._send(EnquireLinkResp(sequence_number=pdu.sequence_number).encode())
        elif command_id == CommandId.UNBIND:
            self._send(UnbindResp(sequence_number=pdu.sequence_number).encode())
            self.close("unbound by the SMSC")
        else:
            self._send(
                GenericNack(
                    sequence_number=pdu.sequence_number, command_status=Status.ESME_RINVBNDSTS
                ).encode()
            )

    async def _expire_loop(self) -> None:
        # One sweep for every deadline instead of a timer per request; deadlines are queued
        # in order since the timeout is the same for all.
        period = min(0.25, self._timeout / 4)
        deadlines = self._deadlines
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            while deadlines and deadlines[0][0] <= now:
                _, sequence = deadlines.popleft()
                future = self._pending.pop(sequence, None)
                if future is not None and not future.done():
                    future.set_exception(ResponseTimeout(f"no answer in {self._timeout}s"))

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self._enquire_interval)
            if time.monotonic() - self._last_received < self._enquire_interval:
                continue
            try:
                await self._call(EnquireLink())
            except ResponseTimeout:
                log.warning("smpp_enquire_link_unanswered")
                self.close("enquire_link unanswered")
                return
            except BindLost:
                return
