"""Fault drills against the real server: what an operator's worst afternoon does to clients.

    make bench-drills                                                               # SQLite
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test make bench-drills  # both

Each drill starts `peercoach serve` (one worker) on a freshly migrated database, puts load on
it from threads of this process (plain `http.client`, one connection each), does something
bad, and counts what the clients were told against what the database holds:

- `concurrent_writers`: 50 writers post reflections at once for a while;
- `if_match`: 50 trials of two members saving one plan with the same `If-Match`;
- `kill_connections` (PostgreSQL): every connection of the server killed every 150 ms under
  write load;
- `outage` (PostgreSQL): the database unreachable for 3 s (a proxy cut) under load, then back;
- `import_kill`: `peercoach import-roster` SIGKILLed in the middle of a large import;
- `import_load`: the API under read and write load while a large import runs beside it;
- `login_flood`: 64 sign-ins for unknown names at once while signed-in users read and write;
- `shutdown`: SIGTERM under load, clients acting as a load balancer (they stop sending once
  `/readyz` fails).

Results go to `bench/results/drills.json` (not committed) and a table is printed; figures are
in `bench/README.md`. `BENCH_DRILLS` picks drills by name (comma-separated).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from app.core.config import Settings
from app.core.db import sync_url
from app.core.migrations import upgrade
from app.core.security import create_access_token, hash_password
from app.plans.models import ActionPlan
from app.reflections.models import Reflection
from app.schools.models import School
from app.teams.models import Team, TeamMember
from app.users.models import Role, SchoolMembership, User

ROOT = Path(__file__).resolve().parents[1]
SECRET = "drill-secret-key-that-is-long-enough-0123456789"
APP_NAME = "peercoach-drill"
PASSWORD = "drill-password-123"
IMPORT_PEOPLE = int(os.environ.get("BENCH_DRILL_IMPORT", "50000"))


# ---- a database and a server -------------------------------------------------------------


def fresh_database(engine: str, tmp: Path) -> str:
    if engine == "sqlite":
        url = f"sqlite:///{tmp / f'drill-{uuid.uuid4().hex[:8]}.db'}"
    else:
        server = make_url(os.environ["BENCH_POSTGRES_URL"])
        name = f"peercoach_drill_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(
            server.set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(False)
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = parsed.set(database="postgres", drivername="postgresql").render_as_string(False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@dataclass
class People:
    admin: User
    teachers: list[User]
    team_id: uuid.UUID
    school: str

    def token(self, user: User) -> dict[str, str]:
        settings = Settings(environment="test", secret_key=SECRET, database_url="sqlite:///x.db")
        return {"Authorization": f"Bearer {create_access_token(settings, user.id, 0)[0]}"}


def seed(url: str) -> People:
    engine = create_engine(sync_url(url))
    hashed = hash_password(PASSWORD)
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as s:
        school = School(name="Drill School", time_zone="America/Chicago")
        s.add(school)
        s.flush()
        admin = User(
            email="admin@drill.example.org",
            given_name="A",
            family_name="Admin",
            role=Role.district_admin,
            password_hash=hashed,
        )
        teachers = [
            User(
                email=f"t{i}@drill.example.org",
                given_name="T",
                family_name=f"T{i}",
                role=Role.teacher,
                password_hash=hashed,
            )
            for i in range(2)
        ]
        s.add_all([admin, *teachers])
        s.flush()
        s.add_all(SchoolMembership(user_id=t.id, school_id=school.id) for t in teachers)
        team = Team(name="Drill team", school_year="2026-2027", created_by_id=teachers[0].id)
        s.add(team)
        s.flush()
        s.add_all(TeamMember(team_id=team.id, user_id=t.id, joined_at=now) for t in teachers)
        s.add(ActionPlan(team_id=team.id))
        s.commit()
    engine.dispose()
    return People(admin, teachers, team.id, "Drill School")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    url: str, command: list[str] | None = None, **env: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`peercoach serve` (or `command` with the same arguments) on a free port, until ready."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        url = parsed.update_query_dict({"application_name": APP_NAME}).render_as_string(False)
    port = free_port()
    command = command or [str(Path(sys.executable).with_name("peercoach"))]
    proc = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env={
            **os.environ,
            "ENVIRONMENT": "test",
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "LOG_LEVEL": "ERROR",
            "SHUTDOWN_DRAIN_SECONDS": "0",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if request(port, "GET", "/readyz")[0] == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: Any = None,
    *,
    conn: http.client.HTTPConnection | None = None,
    timeout: float = 15,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body)
        hdrs = {**(headers or {}), **({"Content-Type": "application/json"} if data else {})}
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        raw = r.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        return r.status, parsed, {k.lower(): v for k, v in r.getheaders()}
    finally:
        if own:
            conn.close()


@dataclass
class Tally:
    """What clients were told, in one place for many threads."""

    answers: Counter[int] = field(default_factory=Counter)
    unanswered: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, created: str | None = None) -> None:
        with self.lock:
            self.answers[status] += 1
            if created:
                self.created.append(created)

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            self.unanswered.append(f"{type(exc).__name__}: {exc}"[:200])

    def summary(self) -> dict[str, Any]:
        return {
            "answers": dict(sorted(self.answers.items())),
            "unanswered": len(self.unanswered),
            "unanswered_examples": self.unanswered[:3],
        }


def writers(
    port: int, headers: dict[str, str], n: int, stop: threading.Event, tally: Tally, tag: str
) -> list[threading.Thread]:
    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                status, body, _ = request(
                    port,
                    "POST",
                    "/api/v1/reflections",
                    headers,
                    {"title": f"{tag} {k}-{i}", "body": "b"},
                    conn=conn,
                )
            except (OSError, http.client.HTTPException) as exc:
                tally.fail(exc)
                conn.close()
                continue
            tally.add(status, body.get("id") if status == 201 else None)

    return [threading.Thread(target=run, args=(k,)) for k in range(n)]


def readers(
    port: int, headers: dict[str, str], n: int, stop: threading.Event, tally: Tally
) -> list[threading.Thread]:
    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            try:
                status, _, _ = request(port, "GET", "/api/v1/teams?limit=5", headers, conn=conn)
            except (OSError, http.client.HTTPException) as exc:
                tally.fail(exc)
                conn.close()
                continue
            tally.add(status)

    return [threading.Thread(target=run) for _ in range(n)]


def run_for(seconds: float, threads: list[threading.Thread], stop: threading.Event) -> None:
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)


def stored_titles(url: str, prefix: str) -> set[str]:
    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        found = {
            str(i)
            for i in conn.execute(
                select(col(Reflection.id)).where(col(Reflection.title).like(f"{prefix}%"))
            ).scalars()
        }
    engine.dispose()
    return found


# ---- the drills ----------------------------------------------------------------------------


def concurrent_writers(url: str, people: People) -> dict[str, Any]:
    tally, stop = Tally(), threading.Event()
    with serving(url) as (port, _):
        threads = writers(port, people.token(people.teachers[0]), 50, stop, tally, "Writers")
        start = time.perf_counter()
        run_for(5, threads, stop)
        elapsed = time.perf_counter() - start
    stored = stored_titles(url, "Writers")
    return {
        **tally.summary(),
        "writes_per_s": round(tally.answers[201] / elapsed, 1),
        "lost_201": len(set(tally.created) - stored),
    }


def if_match(url: str, people: People) -> dict[str, Any]:
    both, outcomes = 0, Counter[str]()
    with serving(url) as (port, _):
        plan = f"/api/v1/teams/{people.team_id}/plan"
        for trial in range(50):
            _, _, headers = request(port, "GET", plan, people.token(people.teachers[0]))
            tag = headers["etag"]
            results: list[int] = []

            def save(
                who: User, trial: int = trial, tag: str = tag, results: list[int] = results
            ) -> None:
                status, _, _ = request(
                    port,
                    "PATCH",
                    plan,
                    {**people.token(who), "If-Match": tag},
                    {"focus_goal": f"{who.family_name} {trial}"},
                )
                results.append(status)

            threads = [threading.Thread(target=save, args=(t,)) for t in people.teachers]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            outcomes[",".join(map(str, sorted(results)))] += 1
            both += results.count(200) == 2
    return {"trials": 50, "outcomes": dict(outcomes), "both_saved": both}


def kill_connections(url: str, people: People) -> dict[str, Any]:
    tally, stop = Tally(), threading.Event()
    killer = create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    killed = [0]

    def kill() -> None:
        with killer.connect() as conn:
            while not stop.is_set():
                killed[0] += len(
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND application_name = :name"
                        ),
                        {"name": APP_NAME},
                    ).all()
                )
                time.sleep(0.15)

    with serving(url) as (port, _):
        threads = writers(port, people.token(people.teachers[0]), 8, stop, tally, "Killed")
        run_for(10, [*threads, threading.Thread(target=kill)], stop)
        recovered = time.perf_counter()
        while request(port, "GET", "/api/v1/teams", people.token(people.admin))[0] != 200:
            time.sleep(0.1)
        recovered_s = round(time.perf_counter() - recovered, 2)
    killer.dispose()
    stored = stored_titles(url, "Killed")
    return {
        **tally.summary(),
        "connections_killed": killed[0],
        "lost_201": len(set(tally.created) - stored),
        "recovered_after_s": recovered_s,
    }


class Proxy:
    """A TCP proxy to the database that the drill cuts and restores."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.open = True
        self.loop = asyncio.new_event_loop()
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result()

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        async def cut() -> None:
            self.open = False
            for w in list(self.writers):
                w.close()
            self.writers.clear()

        asyncio.run_coroutine_threadsafe(cut(), self.loop).result()

    def restore(self) -> None:
        self.open = True


def outage(url: str, people: People) -> dict[str, Any]:
    parsed = make_url(url)
    proxy = Proxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    tally, stop = Tally(), threading.Event()
    with serving(proxied) as (port, _):
        threads = writers(port, people.token(people.teachers[0]), 4, stop, tally, "Outage")
        threads += readers(port, people.token(people.admin), 4, stop, tally)
        for t in threads:
            t.start()
        time.sleep(2)
        proxy.cut()
        cut_at = time.perf_counter()
        time.sleep(3)
        proxy.restore()
        restored = time.perf_counter()
        while request(port, "GET", "/api/v1/teams", people.token(people.admin))[0] != 200:
            time.sleep(0.05)
        recovered_s = round(time.perf_counter() - restored, 2)
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        outage_s = round(restored - cut_at, 2)
    stored = stored_titles(url, "Outage")
    return {
        **tally.summary(),
        "outage_s": outage_s,
        "recovered_after_s": recovered_s,
        "lost_201": len(set(tally.created) - stored),
    }


def roster_file(tmp: Path, n: int, school: str) -> Path:
    path = tmp / f"roster-{n}.csv"
    with path.open("w") as f:
        f.write("email,given name,family name,role,school\n")
        for i in range(n):
            f.write(f"staff{i:06d}@drill.example.org,G{i},F{i},teacher,{school}\n")
    return path


def staff_count(url: str) -> int:
    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(User)).scalar_one())
    engine.dispose()
    return n


def import_command(url: str, roster: Path) -> list[str]:
    return [
        str(Path(sys.executable).with_name("peercoach")),
        "import-roster",
        str(roster),
        "--json",
    ]


def import_env(url: str) -> dict[str, str]:
    return {**os.environ, "ENVIRONMENT": "test", "DATABASE_URL": url, "SECRET_KEY": SECRET}


def import_kill(url: str, people: People, tmp: Path) -> dict[str, Any]:
    roster = roster_file(tmp, IMPORT_PEOPLE, people.school)
    before = staff_count(url)
    killed_after = []
    for delay in (0.5, 1.5, 3.0):
        proc = subprocess.Popen(
            import_command(url, roster),
            env=import_env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_after.append(delay)
        proc.wait()
        assert staff_count(url) in (before, before + IMPORT_PEOPLE)
    partial = staff_count(url) not in (before, before + IMPORT_PEOPLE)
    start = time.perf_counter()
    done = subprocess.run(import_command(url, roster), env=import_env(url), capture_output=True)
    return {
        "people": IMPORT_PEOPLE,
        "killed_after_s": killed_after,
        "partial_imports_seen": partial,
        "rerun_exit_code": done.returncode,
        "rerun_s": round(time.perf_counter() - start, 2),
        "staff_after": staff_count(url) - before,
    }


def import_load(url: str, people: People, tmp: Path) -> dict[str, Any]:
    roster = roster_file(tmp, IMPORT_PEOPLE, people.school)
    reads, writes, stop = Tally(), Tally(), threading.Event()
    with serving(url) as (port, _):
        threads = writers(port, people.token(people.teachers[0]), 4, stop, writes, "During")
        threads += readers(port, people.token(people.admin), 8, stop, reads)
        for t in threads:
            t.start()
        time.sleep(0.5)
        start = time.perf_counter()
        done = subprocess.run(import_command(url, roster), env=import_env(url), capture_output=True)
        import_s = round(time.perf_counter() - start, 2)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=120)
    return {
        "people": IMPORT_PEOPLE,
        "import_exit_code": done.returncode,
        "import_s": import_s,
        "reads": reads.summary(),
        "writes": writes.summary(),
        "lost_201": len(set(writes.created) - stored_titles(url, "During")),
    }


def login_flood(url: str, people: People) -> dict[str, Any]:
    logins, work = Tally(), Tally()
    latencies: list[float] = []
    with serving(url) as (port, _):

        def login(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request(
                    "POST",
                    "/api/v1/auth/token",
                    body=f"username=nobody{i}%40drill.example.org&password=guess",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                r = conn.getresponse()
                r.read()
                logins.add(r.status)
            except (OSError, http.client.HTTPException) as exc:
                logins.fail(exc)
            finally:
                conn.close()

        def signed_in() -> None:
            for i in range(20):
                t0 = time.perf_counter()
                try:
                    status, _, _ = request(port, "GET", "/api/v1/me", people.token(people.admin))
                    work.add(status)
                    status, _, _ = request(
                        port,
                        "POST",
                        "/api/v1/reflections",
                        people.token(people.teachers[1]),
                        {"title": f"Flood {i}", "body": "b"},
                    )
                    work.add(status)
                except (OSError, http.client.HTTPException) as exc:
                    work.fail(exc)
                latencies.append(time.perf_counter() - t0)

        flood = [threading.Thread(target=login, args=(i,)) for i in range(64)]
        users = [threading.Thread(target=signed_in) for _ in range(4)]
        for t in flood:
            t.start()
        time.sleep(0.1)
        for t in users:
            t.start()
        for t in flood + users:
            t.join(timeout=120)
    latencies.sort()
    return {
        "logins": logins.summary(),
        "signed_in_users": work.summary(),
        "signed_in_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
    }


def shutdown(url: str, people: People) -> dict[str, Any]:
    tally, stop = Tally(), threading.Event()
    seen: list[str] = []
    with serving(url, SHUTDOWN_DRAIN_SECONDS="2") as (port, proc):
        threads = writers(port, people.token(people.teachers[0]), 6, stop, tally, "Stopping")

        def balancer() -> None:
            while True:
                try:
                    status = request(port, "GET", "/readyz", timeout=2)[0]
                except OSError as exc:
                    seen.append(type(exc).__name__)
                    break
                if status != 200:
                    seen.append(str(status))
                    break
                time.sleep(0.05)
            stop.set()

        for t in threads:
            t.start()
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        sent = time.perf_counter()
        watcher = threading.Thread(target=balancer)
        watcher.start()
        watcher.join(timeout=30)
        for t in threads:
            t.join(timeout=60)
        proc.wait(timeout=60)
        exited_s = round(time.perf_counter() - sent, 2)
    return {
        **tally.summary(),
        "readiness_said": seen[:1],
        "exited_after_s": exited_s,
        "lost_201": len(set(tally.created) - stored_titles(url, "Stopping")),
    }


DRILLS: dict[str, tuple[Callable[..., dict[str, Any]], bool, bool]] = {
    # name: (drill, PostgreSQL only, takes a temporary folder)
    "concurrent_writers": (concurrent_writers, False, False),
    "if_match": (if_match, False, False),
    "kill_connections": (kill_connections, True, False),
    "outage": (outage, True, False),
    "import_kill": (import_kill, False, True),
    "import_load": (import_load, False, True),
    "login_flood": (login_flood, False, False),
    "shutdown": (shutdown, False, False),
}


def main() -> None:
    engines = ["sqlite"] + (["postgres"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    chosen = [d for d in os.environ.get("BENCH_DRILLS", ",".join(DRILLS)).split(",") if d]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for engine in engines:
            for name in chosen:
                drill, postgres_only, needs_tmp = DRILLS[name]
                if postgres_only and engine != "postgres":
                    continue
                url = fresh_database(engine, tmp)
                try:
                    people = seed(url)
                    started = time.perf_counter()
                    args = (url, people, tmp) if needs_tmp else (url, people)
                    outcome = drill(*args)
                    outcome["drill_s"] = round(time.perf_counter() - started, 1)
                finally:
                    drop_database(url)
                results[f"{engine}/{name}"] = outcome
                print(f"{engine:8} {name:20} {json.dumps(outcome)}", flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "drills.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
