"""The rooms of the code and what each may import (docs/design.md), checked on every run.

A door (the API, the CLI) calls services and never the store; a service never knows which door
called it; the store and the engine below it know no service and no door; ``domain`` knows
nothing but itself. Neither modules nor packages import each other in a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "ileti"

SERVICES = {"access", "accounts", "campaigns", "compliance", "reporting", "sending"}
SHARED = {"codes", "config", "domain", "metrics", "validation", "wakeups"}
# Room → the rooms it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "codes": set(),
    "config": set(),
    "metrics": set(),
    "wakeups": set(),
    "logs": {"domain"},
    "validation": {"codes", "domain"},
    "store": {"config", "domain"},
    "carriers": {"domain"},
    "webhooks": {"config", "domain", "store"},
    "dispatch": {"carriers", "config", "domain", "iys", "store", "webhooks"},
    # İYS's client, the sync with it, and the simulator that stands in for it.
    "iys": {"config", "domain", "store"},
    **{service: SHARED | {"store"} for service in SERVICES},
    "services": SHARED | SERVICES | {"store"},
    "api": SHARED | SERVICES | {"services", "web"},
    # The panel, a door like the API (which mounts it).
    "web": SHARED | SERVICES | {"services"},
    # The command line is a door, and where processes start: it also opens and migrates the
    # database, and runs the worker and the simulator.
    "cli": SHARED | SERVICES | {"services", "api", "dispatch", "carriers", "iys", "logs", "store"},
}
# Services may use the engine's pure helpers where a rule needs them: a webhook URL is refused
# by the check the sender makes.
ALLOWED["accounts"] |= {"webhooks"}
# A campaign is a group send made from a file: it is built on the sending service, and its
# numbers meet the blacklist as every send's do.
ALLOWED["campaigns"] |= {"sending", "compliance"}
# What the command line may take of the store: opening the database and migrating it.
CLI_STORE = {"ileti.store.db", "ileti.store.migrate"}
FRAMEWORKS = ("fastapi", "starlette", "uvicorn", "typer", "jinja2")
FRAMEWORK_FREE = {"domain", "store", "dispatch", "carriers", "webhooks", *SERVICES}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _is_module(name: str) -> bool:
    path = SOURCE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or path.is_dir()


def _imports(path: Path) -> set[str]:
    """The modules a file imports: ``from a import b`` is ``a.b`` when that is a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if _is_module(submodule) else node.module)
    return found


def _room(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "ileti"


MODULES = dict(_modules())
GRAPH = {
    name: {imported for imported in _imports(path) if imported in MODULES and imported != name}
    for name, path in MODULES.items()
}


def test_every_room_imports_only_what_it_may() -> None:
    broken = []
    for name, imported in GRAPH.items():
        room = _room(name)
        if room in ("ileti", "__main__"):
            continue
        for target in imported:
            other = _room(target)
            if other == room or other == "ileti" or other in ALLOWED[room]:
                if room == "cli" and other == "store" and target not in CLI_STORE:
                    broken.append(f"{name} -> {target}")
                continue
            broken.append(f"{name} -> {target}")
    assert broken == []


@pytest.mark.parametrize("room", sorted(FRAMEWORK_FREE))
def test_services_and_the_engine_know_no_web_framework(room: str) -> None:
    used = sorted(
        f"{name} -> {imported}"
        for name, path in MODULES.items()
        if _room(name) == room
        for imported in _imports(path)
        if imported.split(".")[0] in FRAMEWORKS
    )
    assert used == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert _cycles(GRAPH) == []


def test_no_rooms_import_each_other_in_a_circle() -> None:
    rooms: dict[str, set[str]] = {}
    for name, imported in GRAPH.items():
        rooms.setdefault(_room(name), set()).update(
            _room(target) for target in imported if _room(target) != _room(name)
        )
    assert _cycles(rooms) == []


def test_the_check_sees_a_forbidden_import() -> None:
    # The rules above hold only if the graph is read: the API reaches the store through
    # services, never straight.
    api_imports = {
        target
        for name, imported in GRAPH.items()
        if name.startswith("ileti.api")
        for target in imported
    }
    assert "ileti.services" in api_imports
    assert not any(_room(target) == "store" for target in api_imports)
