"""Start a real gunicorn for a test, wait until every worker is ready, stop it.

    from server_helpers import gunicorn_server

    with gunicorn_server(database_url, workers=4) as server:
        requests.get(server.url + "/api/openapi.json", timeout=10)
    # server.log() holds gunicorn's error log (tracebacks, "database is locked"...)

The server listens on 127.0.0.1 on a free port, runs ``wsgi:app`` from the
checkout with ``DATABASE_URL``, ``SECRET_KEY`` and ``PRACTICE_TIMEZONE`` from
the arguments (the database must already be migrated), and is stopped, with
only the processes it started, when the ``with`` block ends.

"Ready" means every worker has loaded the app, not just the first: this file
doubles as a gunicorn config file (``-c``) whose ``post_worker_init`` hook
drops one marker file per worker, so a test that releases requests together
really meets all the workers. Keep top-level names here distinct from
gunicorn's setting names: gunicorn reads every matching name in this file.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time as _time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
READY_DIR_ENV = "PRACTICE_TEST_READY_DIR"

# gunicorn setting (read when this file is the config; older versions ignore
# it): gunicorn 24+ opens a control socket at one fixed path per user, which
# two test servers (or two engineers' test runs) would fight over.
control_socket_disable = True


def post_worker_init(worker) -> None:  # gunicorn hook, runs in each worker
    ready_dir = os.environ.get(READY_DIR_ENV)
    if ready_dir:
        Path(ready_dir, str(os.getpid())).touch()


def free_port() -> int:
    """A port nobody listens on right now (another process may still take it
    before gunicorn binds: ``gunicorn_server`` retries then)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GunicornServer:
    """A running gunicorn: ``url``, ``pid``, ``log()``."""

    def __init__(self, proc: subprocess.Popen, port: int, log_path: Path):
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._final_log: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        """gunicorn's error log so far (kept after the server has stopped)."""
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, grace: float = 5.0) -> None:
        """QUIT the master (quick shutdown: the tests have their answers), then KILL
        what is left of the process group this helper created."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            # start_new_session made the master the leader of its own group:
            # the group holds only this server's master and workers.
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(5)
        if self._final_log is None:
            self._final_log = self.log()


def _gunicorn() -> str:
    exe = Path(sys.executable).with_name("gunicorn")
    return str(exe) if exe.exists() else "gunicorn"


def _answers(url: str) -> bool:
    try:
        with urlopen(url, timeout=2):
            return True
    except HTTPError:
        return True  # any HTTP answer (401, 404) means the app is serving
    except (URLError, OSError):
        return False


def _start(database_url: str, workers: int, app: str, env: dict[str, str], tmp: Path,
           startup_timeout: float, extra_args: list[str]) -> GunicornServer | None:
    """One attempt; None when the port was taken meanwhile."""
    port = free_port()
    ready = tmp / f"ready-{port}"
    ready.mkdir()
    log_path = tmp / f"gunicorn-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    full_env.update({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret-for-gunicorn",
                     "PRACTICE_TIMEZONE": "Europe/London", READY_DIR_ENV: str(ready),
                     "PYTHONPATH": os.pathsep.join(
                         p for p in (str(ROOT), full_env.get("PYTHONPATH")) if p)})
    full_env.update(env)
    cmd = [_gunicorn(), "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "-c", str(Path(__file__).resolve()), "--graceful-timeout", "5",
           "--error-logfile", str(log_path), *extra_args, app]
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = GunicornServer(proc, port, log_path)
    deadline = _time.monotonic() + startup_timeout
    while _time.monotonic() < deadline:
        if proc.poll() is not None:
            if "Address already in use" in server.log():
                return None
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{server.log()[-4000:]}")
        if len(list(ready.iterdir())) >= workers and _answers(server.url + "/api/openapi.json"):
            return server
        _time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn not ready after {startup_timeout}s:\n{server.log()[-4000:]}")


@contextmanager
def gunicorn_server(database_url: str, workers: int = 4, *, app: str = "wsgi:app",
                    env: dict[str, str] | None = None, startup_timeout: float = 60.0,
                    extra_args: list[str] | None = None) -> Iterator[GunicornServer]:
    """Run ``gunicorn -w <workers> -b 127.0.0.1:<free port> <app>`` for the block.

    ``env`` adds or overrides environment keys (``PRACTICE_PLUGINS``...);
    ``app`` may name another module on ``PYTHONPATH`` (an experiment's wsgi).
    """
    with tempfile.TemporaryDirectory(prefix="gunicorn-test-") as tmpdir:
        server = None
        for _attempt in range(3):
            server = _start(database_url, workers, app, dict(env or {}), Path(tmpdir),
                            startup_timeout, list(extra_args or []))
            if server is not None:
                break
        if server is None:
            raise RuntimeError("could not bind a free port for gunicorn")
        try:
            yield server
        finally:
            server.stop()
