"""SQL shapes both databases share, written the way each runs fastest."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import ColumnElement, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection


def among(conn: AsyncConnection, column: ColumnElement[Any], values: Collection[Any]) -> Any:
    """``column IN values`` with the values as one parameter.

    A plain IN list is rendered again on every call, a placeholder per value (with a cast per
    value for asyncpg): for the hundreds of ids a dispatch batch names, that took a tenth of a
    worker's CPU. PostgreSQL takes an array (``= ANY``), SQLite a JSON array (``json_each``);
    the statement stays the same whatever the number of values, and is compiled once.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(
        select(literal_column("value")).select_from(
            func.json_each(bindparam(None, orjson.dumps(list(values)).decode()))
        )
    )
