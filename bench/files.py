"""Reading customer files: rows per second and peak memory for a 100,000-row xlsx and a
1,000,000-row CSV, and templates filled per second.

Each file is written once to a temporary directory; each reading runs in a process of its own,
so that its peak resident memory is its own (reported beside what the process held before it
read: the interpreter and the file's bytes).

    .venv/bin/python bench/files.py [--xlsx-rows 100000] [--csv-rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ileti.campaigns.columns import phone_column
from ileti.campaigns.sheets import read_table
from ileti.campaigns.template import Template

# The tests' workbook writer: an xlsx is written without a spreadsheet library.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from campaigns.workbooks import xlsx

NAMES = ["Ayşe", "Mehmet", "Şükrü", "İpek", "Çağla", "Oğuz", "Ümit", "Işıl"]
CITIES = ["İstanbul", "Ankara", "İzmir", "Bursa", "Van", "Muğla"]
TEMPLATE = "Sayın {Ad} {Soyad}, {Tutar} TL borcunuzun son ödeme günü yarın. {Şehir|} şubemiz"


def _row(n: int) -> tuple[str, str, int, str, str]:
    # Unique numbers, names and amounts that repeat as in a real list.
    return (NAMES[n % 8], f"Soyad{n % 5000}", 905320000000 + n, f"{n % 997},50", CITIES[n % 6])


def _csv(rows: int) -> bytes:
    lines = ["Ad;Soyad;Telefon;Tutar;Şehir"]
    lines += [";".join(map(str, _row(n))) for n in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1254")


def _xlsx(rows: int) -> bytes:
    header = [["Ad", "Soyad", "Telefon", "Tutar", "Şehir"]]
    return xlsx(("Müşteriler", header + [list(_row(n)) for n in range(rows)]))


def _resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def measure(path: Path) -> dict[str, float]:
    """Read one file (in this process) and say how fast and in how much memory."""
    data = path.read_bytes()
    before = _resident_mb()
    began = time.perf_counter()
    table = read_table(data, path.name)
    phone = phone_column(table)
    read = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    template = Template.parse(TEMPLATE, table.columns)
    began = time.perf_counter()
    for row in table.rows:
        template.render(row.cells)
    rendered = time.perf_counter() - began
    assert table.columns[phone] == "Telefon"
    return {
        "rows": len(table.rows),
        "bytes": len(data),
        "seconds": read,
        "rows_per_second": len(table.rows) / read,
        "resident_before_mb": before,
        "peak_mb": peak,
        "renders_per_second": len(table.rows) / rendered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as directory:
        files = {
            f"{args.xlsx_rows:,}-row xlsx": (Path(directory) / "liste.xlsx", _xlsx),
            f"{args.csv_rows:,}-row CSV (Windows-1254, ;)": (Path(directory) / "liste.csv", _csv),
        }
        counts = [args.xlsx_rows, args.csv_rows]
        for (label, (path, write)), rows in zip(files.items(), counts, strict=True):
            path.write_bytes(write(rows))
            answer = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(answer.stdout)
            print(
                f"{label}: {figures['bytes'] / 1e6:.1f} MB read in {figures['seconds']:.2f} s "
                f"({figures['rows_per_second']:,.0f} rows/s); resident memory "
                f"{figures['resident_before_mb']:.0f} MB before reading, peak "
                f"{figures['peak_mb']:.0f} MB; template filled "
                f"{figures['renders_per_second']:,.0f} rows/s"
            )


if __name__ == "__main__":
    main()
