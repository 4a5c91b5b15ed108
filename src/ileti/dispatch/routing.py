"""Which carriers a destination goes to, in order of preference.

Carriers and routes come from a TOML file (``ILETI_CARRIERS_FILE``)::

    [[carrier]]
    name = "operator-a"
    host = "smpp.example.net"
    port = 2775
    system_id = "acme"
    password = "secret"
    binds = 2
    window = 50
    rate = 200            # messages/s over all binds

    [[route]]
    prefix = "90"         # longest prefix wins; "" matches every number
    carriers = ["operator-a", "operator-b"]   # the second takes over when the first fails

Without a file, one carrier named ``simulator`` (the built-in SMSC) takes every number.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ileti.carriers import BindMode, CarrierConfig


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str
    carriers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoutingTable:
    carriers: tuple[CarrierConfig, ...]
    routes: tuple[Route, ...]

    def __post_init__(self) -> None:
        names = {c.name for c in self.carriers}
        for route in self.routes:
            missing = set(route.carriers) - names
            if missing:
                raise ValueError(f"route {route.prefix!r} names unknown carriers: {missing}")
            if not route.carriers:
                raise ValueError(f"route {route.prefix!r} names no carrier")
        # Longest prefix first, so the first match is the most specific.
        object.__setattr__(
            self, "routes", tuple(sorted(self.routes, key=lambda r: len(r.prefix), reverse=True))
        )

    def carriers_for(self, destination: str) -> tuple[str, ...]:
        for route in self.routes:
            if destination.startswith(route.prefix):
                return route.carriers
        return ()


def load(path: Path) -> RoutingTable:
    data = tomllib.loads(path.read_text())
    known = {f.name for f in fields(CarrierConfig)}
    carriers = []
    for entry in data.get("carrier", []):
        unknown = set(entry) - known
        if unknown:
            raise ValueError(f"unknown carrier settings: {', '.join(sorted(unknown))}")
        carriers.append(_carrier(entry))
    routes = [
        Route(str(entry.get("prefix", "")), tuple(entry["carriers"]))
        for entry in data.get("route", [])
    ]
    if not routes:
        routes = [Route("", tuple(c.name for c in carriers))]
    return RoutingTable(tuple(carriers), tuple(routes))


def _carrier(entry: dict[str, Any]) -> CarrierConfig:
    if "bind_mode" in entry:
        entry = {**entry, "bind_mode": BindMode(entry["bind_mode"])}
    return CarrierConfig(**entry)


def simulator_table(port: int) -> RoutingTable:
    """The built-in SMSC on loopback as the one carrier for every destination."""
    carrier = CarrierConfig(
        name="simulator",
        host="127.0.0.1",
        port=port,
        system_id="ileti",
        password="ileti",
        binds=2,
        window=100,
        reconnect_min=0.2,
        reconnect_max=5.0,
        response_timeout=10.0,
    )
    return RoutingTable((carrier,), (Route("", ("simulator",)),))
