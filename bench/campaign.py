"""Excel to SMS against ``ileti serve``: a 100,000-row xlsx uploaded and previewed, a
1,000,000-row CSV started as a campaign, and the files' reading alone.

    .venv/bin/python bench/campaign.py [--xlsx-rows 100000] [--csv-rows 1000000]

Prints the seconds from the upload's first byte to the preview's counts, the seconds from the
start's request to its acceptance with the server processes' peak resident memory meanwhile
(the CSV's preview and start, every process of the server added up), and the rows per second
the readers take on this machine (no server), as a campaign reads a file: once for its shape,
once a row at a time.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests" / "campaigns"))

from workbooks import xlsx  # noqa: E402

from ileti.campaigns.sheets import open_sheet  # noqa: E402
from served import Served, gateway  # noqa: E402

TEMPLATE = "Sayın {Ad}, {Tutar} TL borcunuz {Tarih} tarihinde ödenmelidir."


def customers(count: int) -> list[tuple[str, str, int, str]]:
    return [(f"Müşteri {i}", f"90532{i:07d}", 100 + i % 900, "15.01.2027") for i in range(count)]


def csv_file(count: int) -> bytes:
    lines = ["Ad;Telefon;Tutar;Tarih"]
    lines += [f"{a};{p};{t};{d}" for a, p, t, d in customers(count)]
    return ("\n".join(lines) + "\n").encode()


def xlsx_file(count: int) -> bytes:
    rows = [("Ad", "Telefon", "Tutar", "Tarih"), *customers(count)]
    return xlsx(("Müşteriler", rows))


class PeakMemory:
    """The largest resident memory of the server's processes (added up), sampled every 50 ms."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, sum(_rss(pid) for pid in self.served.pids()))


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def preview(client: httpx.Client, key: str, data: bytes, name: str) -> tuple[float, dict]:
    started = time.perf_counter()
    reply = client.post(
        "/campaign/preview",
        data={"api_key": key, "title": "ILETI", "text": TEMPLATE},
        files={"file": (name, data)},
    ).json()
    return time.perf_counter() - started, reply


def reading(data: bytes, name: str) -> float:
    started = time.perf_counter()
    rows = sum(1 for _ in open_sheet(data, name).rows())
    return rows / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    book = xlsx_file(args.xlsx_rows)
    sheet = csv_file(args.csv_rows)
    print(
        f"reading alone: xlsx {reading(book, 'm.xlsx'):,.0f} rows/s ({args.xlsx_rows:,} rows),"
        f" csv {reading(sheet, 'm.csv'):,.0f} rows/s ({args.csv_rows:,} rows)"
    )
    with gateway() as served, httpx.Client(base_url=served.base_url, timeout=600) as client:
        key = served.unlimited_key()
        served.ileti("account", "topup", "demo", "--credits", "100000000")
        seconds, reply = preview(client, key, book, "musteriler.xlsx")
        print(
            f"xlsx of {args.xlsx_rows:,} rows ({len(book) / 1e6:.1f} MB), upload to counts:"
            f" {seconds:.2f}s, {reply['result_code']}, {reply.get('valid', 0):,} valid"
        )
        with PeakMemory(served) as memory:
            seconds, reply = preview(client, key, sheet, "musteriler.csv")
            print(
                f"csv of {args.csv_rows:,} rows ({len(sheet) / 1e6:.1f} MB), upload to counts:"
                f" {seconds:.2f}s, {reply['result_code']}, {reply.get('valid', 0):,} valid"
            )
            began = time.perf_counter()
            started = client.post(
                "/campaign/start",
                json={
                    "api_key": key,
                    "upload_id": reply["upload_id"],
                    "title": "ILETI",
                    "text": TEMPLATE,
                },
            ).json()
            seconds = time.perf_counter() - began
        print(
            f"start of {args.csv_rows:,} rows to accepted: {seconds:.2f}s,"
            f" {started['result_code']}, {started.get('success_count', 0):,} accepted;"
            f" server processes' peak RSS {memory.peak / 2**20:,.0f} MB ({served.label})"
        )


if __name__ == "__main__":
    main()
