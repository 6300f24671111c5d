"""A throwaway server stack on loopback: a fresh database, migrations, gunicorn, helper processes.

Used by the benchmarks (bench/sse.py, bench/sessions_list.py) and by the cross-process SSE test
(tests/sessions/test_sse_live.py). Nothing here touches the development database:

- SQLite: a new file in a temporary directory (`DATA_DIR`);
- PostgreSQL (when `DATABASE_URL` is a postgres:// URL): a new database `<name>_stack_<hex>` on the
  same server, dropped on exit.

    with Stack(env={"SSE_CYCLE_SECS": "30"}) as stack:
        stack.url("/health"); stack.shell("print(1)")
"""

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """Context manager: fresh database + gunicorn serving it on 127.0.0.1:<free port>."""

    def __init__(self, *, env: dict[str, str] | None = None, database_url: str | None = None) -> None:
        self.base_database_url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
        self.extra_env = env or {}
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="everruns-stack-"))
        self.database_url = ""
        self.database_name = ""
        self.server: subprocess.Popen | None = None
        self.log_path = self.tmp / "server.log"

    @property
    def vendor(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "stack-only-secret-key-0123456789abcdef0123456789",
            "AUTH_MODE": "none",
            "DATA_DIR": str(self.tmp),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_ACCESS_LOG": "",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "everruns.settings",
            **self.extra_env,
        }
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "Stack":
        # gunicorn runs in its own session (so stopping it never signals us): make SIGTERM (e.g. from
        # `timeout`) unwind through __exit__ too, or the server would outlive us.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            self._create_database()
            subprocess.run(
                [PYTHON, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=ROOT,
                env=self.env(),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            self.start_server()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def start_server(self) -> None:
        log = self.log_path.open("ab")
        self.server = subprocess.Popen(
            [GUNICORN, "everruns.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url("/health"), timeout=1) as response:
                if response.status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not become healthy in 30 s")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            # Its own process group: the master and its workers, nothing else.
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(5)
        self.server = None

    def __exit__(self, *exc) -> None:
        self.stop_server()
        self._drop_database()
        if keep := os.environ.get("STACK_KEEP_LOG"):
            with contextlib.suppress(OSError):
                shutil.copy(self.log_path, keep)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ database
    def _admin_dsn(self) -> str:
        parsed = urlparse(self.base_database_url)
        return urlunparse(parsed._replace(path="/postgres", query=""))

    def _create_database(self) -> None:
        if not self.base_database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
            return
        import psycopg

        parsed = urlparse(self.base_database_url)
        base_name = parsed.path.lstrip("/") or "everruns"
        self.database_name = f"{base_name}_stack_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database_name}"')
        self.database_url = urlunparse(parsed._replace(path=f"/{self.database_name}"))

    def _drop_database(self) -> None:
        if not self.database_name:
            return
        import psycopg

        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        self.database_name = ""

    # ------------------------------------------------------------------ helpers
    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def shell(self, code: str, *, timeout: float = 60) -> str:
        """Run Python code in a separate `manage.py shell` process against the stack's database."""
        result = subprocess.run(
            [PYTHON, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"shell failed: {result.stderr[-3000:]}")
        return result.stdout

    def popen_python(self, script: str, *args: str) -> subprocess.Popen:
        """Start `python <script> <args>` with the stack's environment (Django set up by the script)."""
        return subprocess.Popen(
            [PYTHON, script, *args],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master)."""
        if self.server is None:
            return []
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def rss_kib(self) -> int:
        """Resident memory of the master and workers, in KiB."""
        total = 0
        for pid in [self.server.pid, *self.worker_pids()] if self.server else []:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by these processes."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def record(title: str, command: str, table: str) -> None:
    """Print the table and, when asked, append it to docs/benchmarks.md under a dated heading."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    heading = f"\n### {title}, {stamp} ({platform.machine()}, {os.cpu_count()} cores)\n\n`{command}`\n\n"
    with (ROOT / "docs" / "benchmarks.md").open("a") as doc:
        doc.write(heading + table + "\n")
