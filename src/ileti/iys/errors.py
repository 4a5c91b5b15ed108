"""What can go wrong in a call to İYS, from the caller's point of view."""

from __future__ import annotations

from ileti.domain.consent import ConsentError


class IysError(Exception):
    """İYS refused the call or gave an answer that cannot be read; repeating it will not help."""


class IysAuthError(IysError):
    """İYS refused the username and password (or every token it was given)."""


class IysUnavailable(IysError):
    """İYS could not be reached, or kept answering 429 or 5xx, for every attempt made."""


class IysRejected(IysError):
    """İYS refused a record by its rules: the ``H…`` codes say why."""

    def __init__(self, errors: list[ConsentError]) -> None:
        super().__init__("; ".join(f"{e.code} {e.location}: {e.message}" for e in errors))
        self.errors = errors
