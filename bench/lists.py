"""Benchmark the main list endpoints against the no-database floor of the same app, same run.

    make bench                                  # SQLite
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test make bench   # and PostgreSQL

One uvicorn worker; the load generator runs in a separate process with 32 keep-alive
connections. Rounds interleave floor and endpoint so machine noise hits both alike; the figure
that matters is the ratio endpoint/floor within one run.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, insert
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import sync_url
from app.core.migrations import upgrade
from app.core.security import create_access_token, hash_password
from app.schools.models import School
from app.users.models import Role, SchoolMembership, User

ENDPOINTS = [
    "/api/v1/users?limit=50",
    "/api/v1/colleagues?limit=50",
    "/api/v1/schools?limit=50",
]
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONNECTIONS = 32
ROOT = Path(__file__).resolve().parents[1]


def seed(url: str) -> str:
    """500 staff in 2 schools plus 50 schools; returns the district admin's id."""
    engine = create_engine(sync_url(url))
    pw = hash_password("bench-password")
    with Session(engine) as s:
        schools = [School(name=f"School {i:02d}", time_zone="America/Chicago") for i in range(50)]
        s.add_all(schools)
        admin = User(
            email="admin@bench.example",
            given_name="Ada",
            family_name="Admin",
            role=Role.district_admin,
            password_hash=pw,
        )
        s.add(admin)
        s.flush()
        users = [
            User(
                email=f"t{i}@bench.example",
                given_name=f"Given{i}",
                family_name=f"Family{i:04d}",
                role=Role.teacher,
                password_hash=pw,
            )
            for i in range(500)
        ]
        s.add_all(users)
        s.flush()
        s.execute(
            insert(SchoolMembership),
            [
                {"user_id": u.id, "school_id": schools[i % 2].id}
                for i, u in enumerate([admin, *users])
            ],
        )
        s.commit()
        admin_id = admin.id
    if engine.dialect.name == "postgresql":
        # Planner statistics, as autovacuum gathers them within a minute on a live database;
        # without them the first endpoint measured runs on a plan for an empty table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return str(admin_id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(port: int, path: str, token: str | None, seconds: float) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "127.0.0.1",
            str(port),
            path,
            str(seconds),
            str(CONNECTIONS),
            *([token] if token else []),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)


def bench_engine(name: str, url: str) -> list[dict]:
    upgrade(url)
    admin_id = seed(url)
    secret = secrets.token_urlsafe(40)
    settings = Settings(environment="development", database_url=url, secret_key=secret)
    import uuid

    token = create_access_token(settings, uuid.UUID(admin_id), 0)[0]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.benchapp:app",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        load(port, "/bench/floor", None, 1)  # warm up
        for path in ENDPOINTS:
            load(port, path, token, 1)
        rows = []
        for path in ENDPOINTS:
            floor_rps, ep_rps, ep_p99, bad = [], [], [], 0
            for _ in range(ROUNDS):
                f = load(port, "/bench/floor", None, SECONDS)
                e = load(port, path, token, SECONDS)
                floor_rps.append(f["rps"])
                ep_rps.append(e["rps"])
                ep_p99.append(e["p99_ms"])
                bad += e["non_2xx"] + f["non_2xx"]
            fl, ep = sum(floor_rps) / ROUNDS, sum(ep_rps) / ROUNDS
            rows.append(
                {
                    "engine": name,
                    "endpoint": path,
                    "floor_rps": round(fl),
                    "rps": round(ep),
                    "ratio": round(ep / fl, 2),
                    "p99_ms": max(ep_p99),
                    "non_2xx": bad,
                }
            )
            print(
                f"{name:10} {path:32} floor {fl:8.0f} rps   endpoint {ep:8.0f} rps   "
                f"ratio {ep / fl:5.2f}   p99 {max(ep_p99)} ms   non-2xx {bad}",
                flush=True,
            )
        return rows
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results += bench_engine("sqlite", f"sqlite:///{tmp}/bench.db")
    pg = os.environ.get("BENCH_POSTGRES_URL")
    if pg:
        sys.path.insert(0, str(ROOT))
        from tests.dbsetup import drop_postgres_database, fresh_postgres_url

        url = fresh_postgres_url(pg, "peercoach_bench")
        try:
            results += bench_engine("postgresql", url)
        finally:
            drop_postgres_database(url)  # each run seeds a database of its own
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "lists.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
