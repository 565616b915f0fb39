"""Stopping under load: SIGTERM makes readiness fail first, and no request that reached the
server is dropped. The real `peercoach serve`, in a subprocess, on the test database."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, select

from app.core.serving import TESTED_UVICORN, event_loop
from app.schools.models import School
from app.users.models import Role

DRAIN = 1.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_uvicorn_is_a_version_serving_py_was_written_for():
    version = tuple(int(p) for p in uvicorn.__version__.split(".")[:2])
    low, high = TESTED_UVICORN
    assert low <= version < high, (
        f"uvicorn {uvicorn.__version__}: check app/core/serving.py against it, then widen "
        "TESTED_UVICORN"
    )


def _start(settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "LOG_LEVEL": "WARNING",
        "SHUTDOWN_DRAIN_SECONDS": str(DRAIN),
        "SHUTDOWN_GRACE_SECONDS": "10",
    }
    cli = Path(sys.executable).with_name("peercoach")
    return subprocess.Popen(
        [str(cli), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _fail_with_output(server: subprocess.Popen[bytes], why: str) -> None:
    """Stop the server first: reading its output to the end while it runs would never end."""
    server.kill()
    _, err = server.communicate(timeout=10)
    pytest.fail(f"{why}: {err.decode(errors='replace')[-4000:]}")


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_then_stops_without_dropping_a_request(
    settings, factory, token_for, sync_engine, workers
):
    admin = factory.user(Role.district_admin)
    headers = {"Authorization": f"Bearer {token_for(admin)}", "Content-Type": "application/json"}
    port = _free_port()
    server = _start(settings, port, workers)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/readyz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                _fail_with_output(server, "the server was not ready within 30 s")
            time.sleep(0.1)

        unready = threading.Event()  # what a load balancer sees: then it sends no more
        answered: list[int] = []
        dropped: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            i = 0
            while not unready.is_set():
                i += 1
                body = json.dumps({"name": f"Drain {n}-{i}", "time_zone": "UTC"})
                try:
                    if i % 2:
                        conn.request("POST", "/api/v1/schools", body=body, headers=headers)
                    else:
                        conn.request("GET", "/api/v1/schools?limit=1", headers=headers)
                    r = conn.getresponse()
                    r.read()
                    with lock:
                        answered.append(r.status)
                    if r.getheader("connection") == "close":
                        conn.close()  # as HTTP clients do; the next request reconnects
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        dropped.append(f"{type(exc).__name__}: {exc}")
                    conn.close()

        seen: list[str] = []

        def balancer() -> None:
            while server.poll() is None:
                try:
                    status = _get(port, "/readyz")
                except OSError as exc:
                    seen.append(type(exc).__name__)
                    break
                if status != 200:
                    seen.append(str(status))
                    break
                time.sleep(0.05)
            unready.set()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        server.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        watcher = threading.Thread(target=balancer)
        watcher.start()
        watcher.join(timeout=20)
        for t in threads:
            t.join(timeout=20)
        assert seen == ["503"]  # readiness failed first, while the server still answered
        assert time.monotonic() - stopping < 30
        assert server.wait(timeout=30) is not None
        assert dropped == []
        assert set(answered) <= {200, 201}, sorted(set(answered))
        created = answered.count(201)
        with sync_engine.connect() as conn:
            stored = conn.execute(
                select(func.count()).where(School.name.like("Drain %"))  # type: ignore[attr-defined]
            ).scalar_one()
        assert stored == created  # every 201 is stored, nothing else
        with pytest.raises(ConnectionRefusedError):  # stopped: refused, never accepted
            _get(port, "/healthz")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.parametrize(
    ("workers", "chosen", "loop"),
    [
        (1, "auto", "asyncio"),
        (4, "auto", "uvloop"),
        (1, "uvloop", "uvloop"),
        (4, "asyncio", "asyncio"),
    ],
)
def test_the_event_loop_is_asyncio_for_one_worker_and_uvloop_for_several_unless_chosen(
    workers: int, chosen: str, loop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import app.core.serving
    from app.cli import cli
    from app.core.config import Settings, get_settings

    url = "sqlite:///./x.db"
    settings = Settings(environment="development", database_url=url, event_loop=chosen)
    assert event_loop(settings, workers) == loop
    # `peercoach serve` serves with it.
    served: dict[str, object] = {}
    monkeypatch.setattr(app.core.serving, "serve", lambda _app, **kw: served.update(kw))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EVENT_LOOP", chosen)
    monkeypatch.setenv("ENVIRONMENT", "development")
    get_settings.cache_clear()  # read the environment above
    try:
        args = ["serve", "--port", "8999", "--workers", str(workers)]
        assert CliRunner().invoke(cli, args).exit_code == 0
    finally:
        get_settings.cache_clear()
    assert served["loop"] == loop
