"""An account with credits, titles and a key, and the services of one process over it (with
the API over the same services, to hold the two doors side by side)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ileti.store.db import Database
from support.api import Api, acme_api


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    async with acme_api(db) as opened:
        yield opened
