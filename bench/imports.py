"""Benchmark roster imports against the raw bulk-insert floor of the same engine, same run.

    make bench-imports                                   # SQLite, 10,000 and 100,000 staff
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test make bench-imports

For each size a plain CSV roster is generated (staff spread over 50 schools, a tenth of them at
two schools). Each round uses a freshly migrated database:

- floor: the same users and memberships written straight to the tables in one transaction
  (sqlite3 `executemany` on SQLite, `COPY` on PostgreSQL): no parsing, no checks;
- import: `peercoach import-roster` 's code path (stream, parse, validate, match, write, log);
- re-import: the same file again (nothing changes, so nothing is written).

It also measures the parser's peak memory (tracemalloc) on OneRoster users.csv files that hold
the same staff among more and more students: staff are kept, students only counted.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import sync_url
from app.core.migrations import upgrade
from app.rosters import sources
from app.rosters.cli_service import import_path
from app.rosters.formats import RosterFormat, read
from app.schools.models import School

SIZES = [int(n) for n in os.environ.get("BENCH_IMPORT_SIZES", "10000,100000").split(",")]
SCHOOLS = 50
ROOT = Path(__file__).resolve().parents[1]
USERS_11 = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)


def school_names() -> list[str]:
    return [f"School {i:02d}" for i in range(SCHOOLS)]


def write_roster(path: Path, n: int) -> None:
    names = school_names()
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "given name", "family name", "role", "school", "staff id"])
        for i in range(n):
            schools = names[i % SCHOOLS]
            if i % 10 == 0:
                schools += ";" + names[(i + 1) % SCHOOLS]
            role = "principal" if i % 40 == 0 else "teacher"
            w.writerow([f"staff{i:06d}@example.org", f"Given{i}", f"Family{i}", role, schools,
                        f"{i:07d}"])  # fmt: skip


def fresh_database(engine_name: str, tag: str, tmp: Path) -> str:
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp / f'{tag}.db'}"
    else:
        server = make_url(os.environ["BENCH_POSTGRES_URL"])
        name = f"peercoach_bench_{tag}"
        with psycopg.connect(server.set(drivername="postgresql").render_as_string(False),
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(False)
    upgrade(url, "head")
    engine = create_engine(sync_url(url))
    with Session(engine) as s:
        s.execute(insert(School), [
            {"id": uuid.uuid4(), "name": n, "time_zone": "America/Chicago",
             "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
            for n in school_names()
        ])  # fmt: skip
        s.commit()
    engine.dispose()
    return url


def drop_database(engine_name: str, url: str) -> None:
    if engine_name == "postgres":
        parsed = make_url(url)
        admin = parsed.set(database="postgres", drivername="postgresql").render_as_string(False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def floor_rows(url: str, n: int) -> tuple[list[tuple], list[tuple]]:
    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT name, id FROM school").tuples().all()
        ids: dict[str, Any] = dict(found)
    engine.dispose()
    names = school_names()
    now = datetime.now(UTC)
    users, members = [], []
    for i in range(n):
        uid = uuid.uuid4()
        role = "school_admin" if i % 40 == 0 else "teacher"
        users.append((uid, f"staff{i:06d}@example.org", f"Given{i}", f"Family{i}", role,
                      f"{i:07d}", True, 0, now, now))  # fmt: skip
        members.append((uid, ids[names[i % SCHOOLS]]))
        if i % 10 == 0:
            members.append((uid, ids[names[(i + 1) % SCHOOLS]]))
    return users, members


USER_COLUMNS = (
    "id, email, given_name, family_name, role, sourced_id, is_active, token_version, "
    "created_at, updated_at"
)


def floor(engine_name: str, url: str, n: int) -> float:
    users, members = floor_rows(url, n)
    if engine_name == "sqlite":
        path = make_url(url).database
        assert path is not None
        conn = sqlite3.connect(path)
        users = [(u[0].hex, *u[1:8], u[8].replace(tzinfo=None).isoformat(" "),
                  u[9].replace(tzinfo=None).isoformat(" ")) for u in users]  # fmt: skip
        members = [(m[0].hex, m[1]) for m in members]
        started = time.perf_counter()
        with conn:
            conn.executemany(
                f"INSERT INTO user_account ({USER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", users
            )
            conn.executemany(
                "INSERT INTO school_membership (user_id, school_id) VALUES (?,?)", members
            )
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as pg:
        started = time.perf_counter()
        with pg.cursor() as cur:
            with cur.copy(f"COPY user_account ({USER_COLUMNS}) FROM STDIN") as copy:
                for row in users:
                    copy.write_row(row)
            with cur.copy("COPY school_membership (user_id, school_id) FROM STDIN") as copy:
                for row in members:
                    copy.write_row(row)
        pg.commit()
        return time.perf_counter() - started


def run_import(url: str, path: Path) -> tuple[float, dict]:
    settings = Settings(database_url=url, log_level="WARNING")
    started = time.perf_counter()
    result = asyncio.run(import_path(settings, path))
    elapsed = time.perf_counter() - started
    if not result["ok"]:
        raise SystemExit(f"import failed: {result['detail']} {result['errors'][:3]}")
    return elapsed, result


def parse_peak(staff: int, students: int) -> tuple[int, float]:
    """Peak traced memory (bytes) while parsing a users.csv of staff among students."""
    buffer = io.StringIO()
    buffer.write(USERS_11 + "\n")
    for i in range(students):
        buffer.write(f"s{i},,,true,org-1,student,s{i},,S,{i},,,,,,,07,\n")
    for i in range(staff):
        buffer.write(f"t{i},,,true,org-1,teacher,t{i},,T,{i},,,t{i}@example.org,,,,,\n")
    raw = buffer.getvalue().encode()
    with tempfile.TemporaryFile() as f:
        f.write(raw)
        f.seek(0)
        tracemalloc.start()
        files = sources.from_streams([("users.csv", f)], max_unzipped=1)
        roster = read(files, RosterFormat.auto)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(roster.people) == staff
        assert roster.skipped == students
    return peak, len(raw) / 1e6


def main() -> None:
    engines = ["sqlite"] + (["postgres"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    results: dict[str, list[dict]] = {"imports": [], "memory": []}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for n in SIZES:
            roster = tmp / f"roster-{n}.csv"
            write_roster(roster, n)
            for engine_name in engines:
                floor_url = fresh_database(engine_name, f"floor{n}", tmp)
                floor_s = floor(engine_name, floor_url, n)
                drop_database(engine_name, floor_url)
                url = fresh_database(engine_name, f"import{n}", tmp)
                first_s, first = run_import(url, roster)
                again_s, again = run_import(url, roster)
                drop_database(engine_name, url)
                assert first["created"] == n, first
                assert again["unchanged"] == n, again
                row = {
                    "engine": engine_name, "staff": n, "floor_s": round(floor_s, 2),
                    "import_s": round(first_s, 2), "reimport_s": round(again_s, 2),
                    "import_over_floor": round(first_s / floor_s, 1),
                    "reimport_over_import": round(again_s / first_s, 2),
                }  # fmt: skip
                results["imports"].append(row)
                print(json.dumps(row), flush=True)
    for staff, students in ((10_000, 0), (10_000, 90_000), (10_000, 390_000)):
        peak, mb = parse_peak(staff, students)
        row = {"staff": staff, "students": students, "file_mb": round(mb, 1),
               "parse_peak_mb": round(peak / 1e6, 1)}  # fmt: skip
        results["memory"].append(row)
        print(json.dumps(row), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "imports.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
