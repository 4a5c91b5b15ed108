"""The panel over each database, with acme's owner and member and rival's owner logged in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ileti.store.db import Database
from support.panel import Panel, acme_panel


@pytest.fixture
async def panel(db: Database) -> AsyncIterator[Panel]:
    async with acme_panel(db) as panel:
        yield panel


@pytest.fixture
async def english(panel: Panel) -> Panel:
    """Acme's and rival's owners read the panel in English (tests that assert its words)."""
    for login in (panel.owner, panel.rival):
        await login.client.get("/panel/lang/en?next=/panel/")
    return panel
