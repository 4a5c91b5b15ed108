"""One API process of ``ileti serve``, started by it:
``python -m ileti.cli.api_process LISTEN_FD BELL_FD PARENT_PID``."""

from __future__ import annotations

import sys

from ileti.cli.serve import run_api_process

if __name__ == "__main__":
    listen_fd, bell_fd, parent = (int(arg) for arg in sys.argv[1:4])
    run_api_process(listen_fd, bell_fd, parent)
