"""Helpers for tests that start a real server on loopback: a free port, and stopping a server
started in its own process group (so a webserver's code server goes with it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it has not ended within 30 s."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
