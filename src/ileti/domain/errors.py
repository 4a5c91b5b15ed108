"""What the operator's commands refuse, whatever door they came in by."""

from __future__ import annotations


class NotFound(LookupError):
    """No such account, key or title."""


class AlreadyExists(Exception):
    """An account name or a title taken already."""
