"""``python -m ileti``: the same as the ``ileti`` command."""

from ileti.cli import main

main()
