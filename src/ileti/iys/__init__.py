"""İYS, Turkey's consent registry for commercial messages: a client of its API.

The simulator that stands in for it (``ileti.iys.simulator``, ``ileti iys-sim``) is imported
on its own, so the client never loads a web server.
"""

from ileti.iys.answers import Added, Change, ChangesPage, ItemOutcome
from ileti.iys.client import IysAccess, IysClient
from ileti.iys.errors import IysAuthError, IysError, IysRejected, IysUnavailable

__all__ = [
    "Added",
    "Change",
    "ChangesPage",
    "ItemOutcome",
    "IysAccess",
    "IysAuthError",
    "IysClient",
    "IysError",
    "IysRejected",
    "IysUnavailable",
]
