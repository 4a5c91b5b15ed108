"""Throughput of the SMPP carrier against the SMSC simulator on loopback.

The simulator runs in a process of its own, so client and SMSC each get a core. Every message
asks for a receipt, sent at once, so receipts share the bind with the submits. Prints, per run,
submits/s, receipts/s and the CPU each side used (a side near 100% is the bottleneck).

    .venv/bin/python bench/smpp.py [--messages 50000] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import time
from dataclasses import asdict
from multiprocessing.connection import Connection

import structlog

from ileti.carriers import (
    CarrierConfig,
    OutboundMessage,
    SimulatorConfig,
    SmppCarrier,
    SmscSimulator,
    SubmitPart,
)

RUNS = [(1, 1), (10, 1), (100, 1), (100, 4)]  # (window, binds)


def quiet_logs() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def smsc_process(pipe: Connection, loop_kind: str) -> None:
    """The simulator; answers "stats" with its counters and CPU seconds, stops on "stop"."""

    quiet_logs()

    async def serve() -> None:
        smsc = SmscSimulator(SimulatorConfig(port=0, receipt_delay=0))
        await smsc.start()
        pipe.send(smsc.port)
        commands: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
        while await commands.get() != "stop":
            pipe.send((asdict(smsc.stats), time.process_time()))
        await smsc.stop()

    with asyncio.Runner(loop_factory=lambda: new_loop(loop_kind)) as runner:
        runner.run(serve())


async def run(port: int, pipe: Connection, window: int, binds: int, messages: int) -> str:
    carrier = SmppCarrier(
        CarrierConfig(name="bench", host="127.0.0.1", port=port, window=window, binds=binds)
    )
    await carrier.start()
    await asyncio.wait_for(carrier.wait_bound(), 10)
    pipe.send("stats")
    smsc_before, smsc_cpu_before = pipe.recv()

    async def consume() -> None:
        waiting = messages
        while waiting:
            batch = await carrier.receive_many()
            for received in batch:
                received.accept()
            waiting -= len(batch)

    remaining = iter(range(messages))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for index in remaining:
            part = SubmitPart(b"bench message %d" % index, 0)
            results = await carrier.submit(OutboundMessage("ILETI", "905321234567", (part,)))
            failures += not results[0].ok

    cpu = time.process_time()
    started = time.perf_counter()
    receipts = asyncio.create_task(consume())
    await asyncio.gather(*(worker() for _ in range(window * binds)))
    submitted = time.perf_counter() - started
    await receipts
    received = time.perf_counter() - started
    cpu = time.process_time() - cpu
    pipe.send("stats")
    smsc_after, smsc_cpu_after = pipe.recv()
    await carrier.stop()
    accepted = smsc_after["accepted"] - smsc_before["accepted"]
    return (
        f"{window:>6} {binds:>5} {messages:>8} {messages / submitted:>10,.0f} "
        f"{messages / received:>11,.0f} {100 * cpu / received:>9.0f}% "
        f"{100 * (smsc_cpu_after - smsc_cpu_before) / received:>9.0f}% "
        f"{accepted:>9} {failures:>6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = parser.parse_args()
    quiet_logs()

    ours, theirs = mp.Pipe()
    smsc = mp.get_context("spawn").Process(target=smsc_process, args=(theirs, args.loop))
    smsc.start()
    port = ours.recv()
    print(f"SMPP submit_sm with receipts, loopback, {args.loop} event loop, simulator on :{port}")
    print("window binds messages  submits/s  receipts/s client-cpu smsc-cpu  accepted failed")
    with asyncio.Runner(loop_factory=lambda: new_loop(args.loop)) as runner:
        for window, binds in RUNS:
            # Window 1 is bound by the round trip: fewer messages keep the run short.
            messages = args.messages if window > 1 else max(1, args.messages // 10)
            print(runner.run(run(port, ours, window, binds, messages)), flush=True)
    ours.send("stop")
    smsc.join(10)


if __name__ == "__main__":
    main()
