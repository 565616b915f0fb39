"""Faults against the real server (`peercoach serve` in a subprocess, real HTTP): what a client
is told is what the database holds, whatever happens to the database's connections."""

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
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.core.db import sync_url
from app.reflections.models import Reflection
from app.users.models import Role
from tests.conftest import ENGINE

APP_NAME = "peercoach-fault-drill"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings) -> Iterator[int]:
    """The API on the test database; its PostgreSQL connections carry an application name the
    drill can find them by."""
    url = make_url(settings.database_url)
    if ENGINE == "postgres":
        url = url.update_query_dict({"application_name": APP_NAME})
    port = _free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SECRET_KEY": settings.secret_key,
        "LOG_LEVEL": "ERROR",
        "SHUTDOWN_DRAIN_SECONDS": "0",
        "DB_POOL_TIMEOUT": "3",
    }
    cli = Path(sys.executable).with_name("peercoach")
    proc = subprocess.Popen(
        [str(cli), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            assert proc.poll() is None, "server exited"
            time.sleep(0.1)
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _post(
    conn: http.client.HTTPConnection, headers: dict[str, str], title: str
) -> tuple[int, dict]:
    conn.request(
        "POST",
        "/api/v1/reflections",
        body=json.dumps({"title": title, "body": "b"}),
        headers={**headers, "Content-Type": "application/json"},
    )
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"{}")


def test_a_write_read_back_at_once_on_another_connection_is_there(server, factory, token_for):
    """The 201 is sent after the commit: another connection (another worker, a replica of
    the client) reads the new record at once, every time."""
    teacher = factory.user(Role.teacher)
    headers = {"Authorization": f"Bearer {token_for(teacher)}"}
    writer = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    reader = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    missing = []
    for i in range(60):
        status, body = _post(writer, headers, f"Read back {i}")
        assert status == 201, body
        reader.request("GET", f"/api/v1/reflections/{body['id']}", headers=headers)
        r = reader.getresponse()
        r.read()
        if r.status != 200:
            missing.append((i, r.status))
    assert missing == []


@pytest.mark.skipif(ENGINE != "postgres", reason="killing a network database's connections")
def test_connections_killed_while_writes_run(server, settings, factory, token_for):
    """Eight writers post for a few seconds while every connection of the server is killed
    again and again (sessions, reads, the change feed). Every request gets an answer, a 201
    or a 503; every 201 is in the database afterwards; the server recovers by itself."""
    teacher = factory.user(Role.teacher)
    headers = {"Authorization": f"Bearer {token_for(teacher)}"}
    created: list[str] = []
    answers: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server, timeout=20)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                status, body = _post(conn, headers, f"Drill {n}-{i}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                continue
            with lock:
                answers.append(status)
                if status == 201:
                    created.append(body["id"])

    killer_engine = create_engine(sync_url(settings.database_url), isolation_level="AUTOCOMMIT")
    killed = 0

    def killer() -> None:
        nonlocal killed
        with killer_engine.connect() as conn:
            while not stop.is_set():
                killed += len(
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND application_name = :name"
                        ),
                        {"name": APP_NAME},
                    ).all()
                )
                time.sleep(0.15)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert killed > 0
    assert failures == []  # every request was answered
    assert set(answers) <= {201, 503}, sorted(set(answers))
    assert answers.count(201) > 0
    assert answers.count(503) > 0
    with killer_engine.connect() as conn:
        stored = {
            str(i)
            for i in conn.execute(
                select(Reflection.id).where(Reflection.title.like("Drill %"))  # type: ignore[attr-defined]
            ).scalars()
        }
    killer_engine.dispose()
    assert set(created) <= stored  # no 201 for a write that was lost
    # The server recovered without a restart.
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    deadline = time.monotonic() + 15
    while True:
        status, _ = _post(conn, headers, "After the drill")
        if status == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 201
