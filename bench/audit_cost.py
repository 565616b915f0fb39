"""What the audit trail costs the requests it records (`make bench-audit`).

Two servers on one freshly migrated database, each one uvicorn worker with production settings
and logging: the app as it ships, and the same app with its audit events and keys' last use
switched off (a patch applied by this script's launcher, not a setting of the app; the team's
read log is still written). `wrk -t2 -c32` loads each
in interleaved rounds with:

- `GET /teams/{id}/observation-records` as a team member: every request is a confidential read,
  so it notes a read-log entry and an audit event;
- `GET /users?limit=50` with an integration key: every request may note the key's last use;
- `PATCH /users/{id}` by a district administrator with a new email each request: a change
  whose transaction also appends an `email_changed` event.

Sign-ins are not measured: one argon2 check is about 50 ms, a journal note a few microseconds.
The ratio "with / without" of requests per second is what the trail costs. Results go to
`bench/results/audit.json` and are printed; figures are in bench/README.md.

    make bench-audit                                                               # SQLite
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test make bench-audit  # both
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.district import wrk
from bench.drills import People, drop_database, fresh_database, request, seed, serving

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

# The launcher of the server without the trail: the same app, with the audit events (in the
# journal and in transactions) and the keys' last use dropped; the team's read log is kept.
_QUIET = (
    "import sys\n"
    "from app.audit import service\n"
    "from app.audit.models import AuditEvent\n"
    "from app.core import journal\n"
    "_note = journal.Journal.note\n"
    "async def _no_events(self, *rows):\n"
    "    await _note(self, *(r for r in rows if r[0] is not AuditEvent))\n"
    "async def _nothing(*args, **kwargs):\n"
    "    return None\n"
    "journal.Journal.note = _no_events\n"
    "journal.Journal.touch = _nothing\n"
    "service.record = _nothing\n"
    "from app.cli import main\n"
    "sys.argv = ['peercoach', *sys.argv[1:]]\n"
    "main()\n"
)


@contextlib.contextmanager
def server(url: str, *, trail: bool) -> Iterator[int]:
    """One worker as production runs it; without the trail, through the patching launcher."""
    command = None if trail else [sys.executable, "-c", _QUIET]
    with serving(url, command, ENVIRONMENT="production", LOG_LEVEL="INFO") as (port, _):
        yield port


def _key(port: int, people: People) -> str:
    status, body, _ = request(
        port,
        "POST",
        "/api/v1/integration-keys",
        people.token(people.admin),
        {"name": "bench", "scopes": ["read"]},
    )
    assert status == 201, body
    return str(body["key"])


def _new_email_script(tmp: Path, name: str) -> Path:
    script = tmp / f"{name}.lua"
    script.write_text(
        'wrk.method = "PATCH"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["If-Match"] = "*"\n'
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        f"  return wrk.format(nil, nil, nil, '{{\"email\": \"{name}-' .. n .. '-' .. "
        "math.random(1e9) .. '@drill.example.org\"}')\n"
        "end\n"
    )
    return script


def bench_engine(engine: str, tmp: Path) -> list[dict]:
    url = fresh_database(engine, tmp)
    try:
        people = seed(url)
        teacher = people.token(people.teachers[0])["Authorization"].removeprefix("Bearer ")
        with server(url, trail=True) as port:
            key = _key(port, people)
        admin = people.token(people.admin)["Authorization"].removeprefix("Bearer ")
        changed = f"/api/v1/users/{people.teachers[1].id}"
        loads = [
            ("a confidential read", f"/api/v1/teams/{people.team_id}/observation-records", teacher),
            ("a key's read", "/api/v1/users?limit=50", key),
            ("an email change (PATCH /users/{id})", changed, admin),
        ]
        results = []
        with server(url, trail=True) as on, server(url, trail=False) as off:
            for label, path, token in loads:
                rounds: dict[str, list[dict]] = {"on": [], "off": []}
                for _ in range(ROUNDS):
                    for name, port in (("off", off), ("on", on)):
                        script = (
                            _new_email_script(tmp, f"{engine}-{name}") if path == changed else None
                        )
                        got = wrk(f"http://127.0.0.1:{port}{path}", SECONDS, token, script)
                        assert got["non_2xx"] == 0, (label, name, got)
                        rounds[name].append(got)
                rps = {n: sum(r["rps"] for r in rs) / len(rs) for n, rs in rounds.items()}
                results.append(
                    {
                        "engine": engine,
                        "load": label,
                        "rps_with_trail": round(rps["on"]),
                        "rps_without": round(rps["off"]),
                        "ratio": round(rps["on"] / rps["off"], 3),
                        "p99_ms_with": max(r["p99_ms"] for r in rounds["on"]),
                        "p99_ms_without": max(r["p99_ms"] for r in rounds["off"]),
                    }
                )
        return results
    finally:
        drop_database(url)


def main() -> None:
    engines = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            results += bench_engine(engine, Path(tmp))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "audit.json").write_text(json.dumps(results, indent=2))
    print(f"{'engine':<11}{'load':<40}{'with':>8}{'without':>9}{'ratio':>7}{'p99 with':>10}")
    for r in results:
        print(
            f"{r['engine']:<11}{r['load']:<40}{r['rps_with_trail']:>8}{r['rps_without']:>9}"
            f"{r['ratio']:>7}{r['p99_ms_with']:>10}"
        )


if __name__ == "__main__":
    main()
