"""Every GET of the API at district scale, against a bare floor, on SQLite and PostgreSQL.

    make bench                                                                # SQLite
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test make bench   # both engines

For each engine: seed a district (bench/district_seed.py: 20,000 staff through the roster
importer, 2,000 teams with a whole cycle), start the real app as production runs it
(`peercoach serve`, one uvicorn worker, ENVIRONMENT=production and its logging), capture one
answer of every measured endpoint, start the bare floor (bench/floor.py: a separate FastAPI app
that validates and serialises the same response model from that answer), then load each with
`wrk -t2 -c32` in interleaved rounds (floor, endpoint, floor, endpoint...), so the machine's
noise hits both alike. The figure is the ratio of the endpoint's requests per second to its
floor's in the same run, with the endpoint's p99 latency. Writes (creating an event, an
observation record and a reflection) are measured the same way against a floor that validates
the same body and returns the same model.

Every GET operation in the OpenAPI document must be measured: the run stops if one is missing
from READS. `BENCH_SECONDS` (default 3), `BENCH_ROUNDS` (2), `BENCH_ONLY` (texts of the
labels to run) and the sizes in district_seed.py tune a run. Results: bench/results/district.json.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from oidc_provider_mock import run_server_in_thread

from app.core.config import Settings
from app.core.migrations import upgrade
from app.core.security import create_access_token
from bench.district_seed import District, seed

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
# Labels to run: any containing one of these comma-separated texts (all when empty).
ONLY = [part for part in os.environ.get("BENCH_ONLY", "").split(",") if part]
# Which engines to measure (PostgreSQL also needs BENCH_POSTGRES_URL).
ENGINES = [e for e in os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",") if e]


def _chosen(label: str) -> bool:
    return not ONLY or any(part in label for part in ONLY)


THREADS, CONNECTIONS = 2, 32

SSO_FRONT = "http://localhost:5173/sso/callback"

# (label, path, caller, kind): kind is "list" or "single" (target 0.5 of the floor) or
# "composite" (0.25); "write" (0.25) for a GET that writes (a single sign-on's start records
# the attempt).
READS: list[tuple[str, str, str | None, str]] = [
    ("users", "/api/v1/users?limit=50", "district_admin", "list"),
    ("user", "/api/v1/users/{user}", "district_admin", "single"),
    ("colleagues", "/api/v1/colleagues?limit=50", "teacher", "list"),
    ("schools", "/api/v1/schools?limit=50", "district_admin", "list"),
    ("school", "/api/v1/schools/{school}", "district_admin", "single"),
    ("me", "/api/v1/me", "teacher", "single"),
    ("teams (district admin)", "/api/v1/teams?limit=50", "district_admin", "list"),
    ("plan-review queue", "/api/v1/teams?limit=50&plan_status=submitted", "school_admin", "list"),
    ("team", "/api/v1/teams/{team}", "teacher", "single"),
    ("team invitations", "/api/v1/teams/{team}/invitations", "teacher", "list"),
    ("my invitations", "/api/v1/team-invitations", "invitee", "list"),
    ("plan", "/api/v1/teams/{team}/plan", "teacher", "single"),
    ("plan history", "/api/v1/teams/{team}/plan/transitions", "teacher", "list"),
    ("progress", "/api/v1/teams/{team}/progress", "school_admin", "composite"),
    ("summary (member)", "/api/v1/teams/{team}/summary", "teacher", "composite"),
    ("summary document", "/api/v1/teams/{team}/summary/document", "teacher", "composite"),
    ("observation records", "/api/v1/teams/{team}/observation-records", "teacher", "list"),
    ("events (district admin)", "/api/v1/events?limit=50", "district_admin", "list"),
    ("events (teacher)", "/api/v1/events?limit=50", "teacher", "list"),
    (
        "month calendar (teacher)",
        "/api/v1/events?teacher_id={teacher}&from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z",
        "teacher",
        "list",
    ),
    ("event", "/api/v1/events/{event}", "teacher", "single"),
    ("observation record", "/api/v1/events/{event}/observation-record", "teacher", "single"),
    ("conference record", "/api/v1/events/{conference}/conference-record", "teacher", "single"),
    ("reflections (teacher)", "/api/v1/reflections?limit=50", "teacher", "list"),
    ("reflections (district admin)", "/api/v1/reflections?limit=50", "district_admin", "list"),
    ("reflection", "/api/v1/reflections/{reflection}", "teacher", "single"),
    ("comments", "/api/v1/reflections/{reflection}/comments", "teacher", "list"),
    ("coverage", "/api/v1/coverage-requests?limit=50", "school_admin", "list"),
    ("coverage request", "/api/v1/coverage-requests/{coverage}", "school_admin", "single"),
    ("support", "/api/v1/support-requests?limit=50", "school_admin", "list"),
    ("support request", "/api/v1/support-requests/{support}", "district_admin", "single"),
    ("resources", "/api/v1/resources?limit=50", "teacher", "list"),
    ("resource", "/api/v1/resources/{resource}", "teacher", "single"),
    ("focus areas", "/api/v1/focus-areas", "teacher", "list"),
    ("integration keys", "/api/v1/integration-keys", "district_admin", "list"),
    ("roster imports", "/api/v1/roster-imports", "district_admin", "list"),
    ("roster import", "/api/v1/roster-imports/{roster_import}", "district_admin", "single"),
    (
        "import rows",
        "/api/v1/roster-imports/{roster_import}/rows?limit=50",
        "district_admin",
        "list",
    ),
    ("year-end report", "/api/v1/reports/year-end?limit=50", "district_admin", "composite"),
    (
        "year-end CSV (a school)",
        "/api/v1/reports/year-end.csv?school_id={school}",
        "school_admin",
        "composite",
    ),
    ("growth record", "/api/v1/events/{year_end}/growth-record", "teacher", "single"),
    ("learning forms", "/api/v1/teams/{team}/learning-forms", "teacher", "list"),
    ("learning form", "/api/v1/teams/{team}/learning-forms/{teacher}", "teacher", "single"),
    ("my learning forms", "/api/v1/me/learning-forms", "teacher", "list"),
    ("my observation records", "/api/v1/me/observation-records", "teacher", "list"),
    (
        "observation comparison",
        "/api/v1/teams/{team}/observation-comparison",
        "teacher",
        "composite",
    ),
    ("read log", "/api/v1/teams/{team}/read-log?limit=50", "teacher", "list"),
    ("school years", "/api/v1/school-years", "district_admin", "list"),
    ("school year", "/api/v1/school-years/{school_year}", "teacher", "single"),
    ("program rules", "/api/v1/program-rules", "teacher", "single"),
    ("notifications", "/api/v1/notifications?limit=50", "teacher", "list"),
    ("unread notifications", "/api/v1/notifications/unread-count", "teacher", "single"),
    ("notification settings", "/api/v1/me/notification-settings", "teacher", "single"),
    ("calendar feeds", "/api/v1/calendar-feeds", "teacher", "list"),
    ("personal feed (.ics)", "/api/v1/calendar-feeds/{feed_token}.ics", None, "composite"),
    ("school feed (.ics)", "/api/v1/calendar-feeds/{school_feed_token}.ics", None, "composite"),
    ("event (.ics)", "/api/v1/events/{event}.ics", "teacher", "single"),
    ("audit events", "/api/v1/audit-events?limit=50", "district_admin", "list"),
    (
        "audit events of a team (CSV)",
        "/api/v1/audit-events.csv?team_id={audited_team}",
        "district_admin",
        "composite",
    ),
    ("sign-in options", "/api/v1/sso/providers", None, "single"),
    ("a person's sign-in bindings", "/api/v1/users/{user}/sso-identities", "school_admin", "list"),
    ("my sign-in bindings", "/api/v1/me/sso-identities", "teacher", "list"),
    (
        "single sign-on start",
        "/api/v1/sso/{provider}/authorize?redirect_uri=" + SSO_FRONT + "&code_challenge="
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&state=s",
        None,
        "write",
    ),
    ("healthz", "/healthz", None, "single"),
    ("readyz", "/readyz", None, "single"),
]

# GET operations measured by no load: what they answer depends on a third party each time.
NOT_LOADED = {
    "/api/v1/sso/{provider}/callback": (
        "the provider's browser redirect: each takes a one-time state and calls the provider's "
        "token endpoint, so a load measures the provider (tests/test_sso.py runs it end to end)"
    ),
}

WRITES = ["create event", "create observation record", "create reflection"]

_LUA = """
local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  n = 0
end
%s
request = function()
  n = n + 1
  local k = base + (id - 1) * per_thread + n
  local path, body = make(k)
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["Authorization"] = auth}, body)
end
"""


_RUNS = itertools.count(1)
_OBSERVATION_RUNS = itertools.count()
RUN_SPAN = 20_000  # requests one write script may make, at most


def _write_script(work: Path, name: str, d: District, token: str, floor_path: str | None) -> Path:
    """A wrk script posting a fresh body each request (`floor_path`: the same bodies to the
    floor). Each script starts where no earlier run went (`base`): a second round repeating the
    first one's event times or records would be answered 409."""
    # 20,000 hours (2.3 years) apart: no run overlaps another, and 24 runs stay before the
    # API's last accepted date (2200).
    base = next(_RUNS) * RUN_SPAN
    auth = f'auth = "Bearer {token}"\nbase = {base}\nper_thread = {RUN_SPAN // THREADS}'
    if name == "create event":
        path = floor_path or "/api/v1/events"
        make = f"""
function make(k)
  local t = os.date("!%Y-%m-%dT%H:%M:%SZ", 2208988800 + k * 3600)
  local e = os.date("!%Y-%m-%dT%H:%M:%SZ", 2208988800 + k * 3600 + 1800)
  return "{path}", '{{"team_id": "{d.writer_team}", "kind": "other", "title": "Planning", ' ..
    '"starts_at": "' .. t .. '", "ends_at": "' .. e .. '"}}'
end"""
    elif name == "create observation record":
        ids = ", ".join(f'"{i}"' for i in d.writer_observations)
        where = (
            f'"{floor_path}"'
            if floor_path
            else '"/api/v1/events/" .. ids[i] .. "/observation-record"'
        )
        # Each run of the app its own quarter of the observations (a run posting more than a
        # quarter in its seconds, 2,500 a second, would write some a second time: 409s).
        start = 0 if floor_path else next(_OBSERVATION_RUNS) * (len(d.writer_observations) // 4)
        make = f"""
ids = {{{ids}}}
function make(k)
  local i = ({start} + (id - 1) + (n - 1) * 2) % #ids + 1
  local path = {where}
  return path, '{{"affirmations": ["Clear routines"], "new_understandings": ["Stems"], ' ..
    '"open_questions": ["Pacing?"], "evidence": "Notes"}}'
end"""
    else:
        path = floor_path or "/api/v1/reflections"
        make = f"""
function make(k)
  return "{path}", '{{"title": "Week ' .. k .. '", "body": "What I tried and what I saw.", ' ..
    '"visibility": "private"}}'
end"""
    script = work / f"{name.replace(' ', '_')}{'_floor' if floor_path else ''}_{base}.lua"
    script.write_text(auth + "\n" + _LUA % make)
    return script


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, seconds: float, token: str | None = None, script: Path | None = None) -> dict:
    cmd = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{round(seconds)}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": p99,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def _settle(url: str) -> None:
    """Wait until the server has answered what a finished wrk run left queued: `wrk` stops
    after its duration, the server does not (32 slow CSV exports queued at the end of a run
    kept it busy for 40 s, and the next measurement saw no answer at all)."""
    quick = 0
    for _ in range(600):
        start = time.perf_counter()
        urllib.request.urlopen(url, timeout=60).read()
        quick = quick + 1 if time.perf_counter() - start < 0.02 else 0
        if quick == 3:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url} stayed busy")


def _settled(result: dict, base: str) -> dict:
    _settle(f"{base}/healthz")
    return result


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str, token: str | None) -> tuple[int, Any, str]:
    """One answer, redirects not followed (a 302's `Location` is in the headers)."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with _OPENER.open(req, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise
        return answer.code, answer.headers, ""


def _post(url: str, token: str, body: dict) -> Any:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as refused:
        raise RuntimeError(f"POST {url}: {refused.code} {refused.read().decode()}") from None


def _template(path: str) -> str:
    return path.split("?")[0]


def _check_every_get_is_measured(openapi: dict) -> None:
    measured = {re.sub(r"\{(\w+)\}", "{}", _template(p)) for _, p, _, _ in READS}
    missing = [
        p
        for p, ops in openapi["paths"].items()
        if "get" in ops and re.sub(r"\{(\w+)\}", "{}", p) not in measured and p not in NOT_LOADED
    ]
    if missing:
        raise SystemExit(f"GET operations the benchmark does not measure: {missing}")


def _templates(openapi: dict) -> dict[str, str]:
    """Concrete path -> OpenAPI template, by shape."""
    return {re.sub(r"\{(\w+)\}", "{}", p): p for p in openapi["paths"]}


def bench_engine(name: str, url: str, work: Path, issuer: str) -> list[dict]:
    upgrade(url)
    t0 = time.perf_counter()
    d = seed(url, work)
    print(f"{name}: seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    secret = secrets.token_urlsafe(48)
    settings = Settings(environment="production", database_url=url, secret_key=secret)
    ids = {k: v for k, v in asdict(d).items() if isinstance(v, str)} | {"provider": "district"}
    # Who and what was seeded, for profiling a kept database (BENCH_WORK).
    (work / f"{name}-ids.json").write_text(json.dumps(ids, indent=1))

    def token(who: str | None) -> str | None:
        if who is None:
            return None
        return create_access_token(settings, uuid.UUID(getattr(d, who)), 0)[0]

    port, floor_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "ENVIRONMENT": "production",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        # A district signing in through an OpenID Connect provider (oidc-provider-mock on
        # loopback), for the single sign-on reads.
        "OIDC_PROVIDERS": json.dumps(
            {
                "district": {
                    "display_name": "District accounts",
                    "issuer": issuer,
                    "client_id": "peercoach-bench",
                    "client_secret": "bench-client-secret",
                }
            }
        ),
        "SSO_REDIRECT_URIS": json.dumps([SSO_FRONT]),
    }
    log = (work / f"{name}-app.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    floor = None
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/readyz")
        openapi = json.loads((ROOT / "openapi" / "openapi.json").read_text())
        _check_every_get_is_measured(openapi)
        shapes = _templates(openapi)
        reads = [r for r in READS if _chosen(r[0])]
        captures: list[dict[str, Any]] = []
        plan = []
        for label, path, who, kind in reads:
            concrete = path.format(**ids)
            status, headers, text = _get(base + concrete, token(who))
            assert status in (200, 302), (label, status)
            media = headers.get("Content-Type", "")
            template = shapes[re.sub(r"\{(\w+)\}", "{}", _template(path))]
            capture: dict[str, Any] = {"method": "GET", "template": template}
            if status == 302:
                capture["redirect"] = headers.get("Location")
            elif media.startswith("application/json"):
                capture["answer"] = json.loads(text)
            else:
                capture["text"], capture["media_type"] = text, media
            plan.append((label, concrete, who, kind, len(captures)))
            captures.append(capture)
        writes = []
        if any(_chosen(w) for w in WRITES):
            writer = token("writer")
            assert writer is not None
            first = {
                "create event": _post(
                    f"{base}/api/v1/events",
                    writer,
                    {
                        "team_id": d.writer_team,
                        "kind": "other",
                        "title": "Planning",
                        "starts_at": "2039-01-01T15:00:00Z",
                        "ends_at": "2039-01-01T15:30:00Z",
                    },
                ),
                "create observation record": _post(
                    f"{base}/api/v1/events/{d.writer_observations.pop()}/observation-record",
                    writer,
                    {
                        "affirmations": ["Clear routines"],
                        "new_understandings": ["Stems"],
                        "open_questions": ["Pacing?"],
                        "evidence": "Notes",
                    },
                ),
                "create reflection": _post(
                    f"{base}/api/v1/reflections",
                    writer,
                    {"title": "Week 0", "body": "What I tried.", "visibility": "private"},
                ),
            }
            templates = {
                "create event": "/api/v1/events",
                "create observation record": "/api/v1/events/{event_id}/observation-record",
                "create reflection": "/api/v1/reflections",
            }
            for w in filter(_chosen, WRITES):
                writes.append((w, len(captures)))
                captures.append({"method": "POST", "template": templates[w], "answer": first[w]})
        floor_file = work / f"{name}-floor.json"
        floor_file.write_text(json.dumps(captures))
        floor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.floor:app",
                "--port",
                str(floor_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ, "BENCH_FLOOR_FILE": str(floor_file)},
        )
        fbase = f"http://127.0.0.1:{floor_port}"
        _wait(f"{fbase}/floor/ready")
        for _label, concrete, who, _, n in plan:  # warm both up
            wrk(base + concrete, 1, token(who))
            wrk(f"{fbase}/floor/{n}", 1)
            _settle(f"{base}/healthz")
        rows = []
        for label, concrete, who, kind, n in plan:
            rows.append(
                _measure(
                    name,
                    label,
                    kind,
                    lambda s, c=concrete, w=who: _settled(wrk(base + c, s, token(w)), base),
                    lambda s, n=n: wrk(f"{fbase}/floor/{n}", s),
                )
            )
        for label, n in writes:
            writer = token("writer")
            assert writer is not None
            rows.append(
                _measure(
                    name,
                    label,
                    "write",
                    lambda s, w=label, t=writer: _settled(
                        wrk(base, s, script=_write_script(work, w, d, t, None)), base
                    ),
                    lambda s, w=label, t=writer, n=n: wrk(
                        fbase, s, script=_write_script(work, w, d, t, f"/floor/{n}")
                    ),
                )
            )
        return rows
    finally:
        for proc in (server, floor):
            if proc is not None:
                proc.terminate()
                proc.wait(30)
        log.close()


TARGETS = {"list": 0.5, "single": 0.5, "composite": 0.25, "write": 0.25}


def _measure(engine: str, label: str, kind: str, app: Any, floor: Any) -> dict:
    floors, apps, p99s, bad = [], [], [], 0
    for _ in range(ROUNDS):
        f, a = floor(SECONDS), app(SECONDS)
        floors.append(f["rps"])
        apps.append(a["rps"])
        p99s.append(a["p99_ms"])
        bad += a["non_2xx"] + a["socket_errors"] + f["non_2xx"] + f["socket_errors"]
    fl, ep = sum(floors) / ROUNDS, sum(apps) / ROUNDS
    ratio = ep / fl if fl else 0.0
    row = {
        "engine": engine,
        "endpoint": label,
        "kind": kind,
        "floor_rps": round(fl),
        "rps": round(ep),
        "ratio": round(ratio, 2),
        "p99_ms": round(max(p99s), 1),
        "failed": bad,
        "target": TARGETS[kind],
        "meets": ratio >= TARGETS[kind] and max(p99s) < 250 and bad == 0,
    }
    print(
        f"{engine:10} {label:30} floor {fl:7.0f}  app {ep:7.0f}  ratio {ratio:5.2f} "
        f"(>= {TARGETS[kind]})  p99 {max(p99s):6.1f} ms  failed {bad}"
        f"{'' if row['meets'] else '   <-- below target'}",
        flush=True,
    )
    return row


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(os.environ.get("BENCH_WORK") or tmp)  # BENCH_WORK keeps the logs
        work.mkdir(parents=True, exist_ok=True)
        with run_server_in_thread(port=0) as provider:
            issuer = f"http://localhost:{provider.server_port}"
            for stale in work.glob("bench.db*"):  # a kept database of an earlier run
                stale.unlink()
            if "sqlite" in ENGINES:
                results += bench_engine("sqlite", f"sqlite:///{work}/bench.db", work, issuer)
            pg = os.environ.get("BENCH_POSTGRES_URL")
            if pg and "postgresql" in ENGINES:
                sys.path.insert(0, str(ROOT))
                from tests.dbsetup import drop_postgres_database, fresh_postgres_url

                url = fresh_postgres_url(pg, "peercoach_bench")
                try:
                    results += bench_engine("postgresql", url, work, issuer)
                finally:
                    drop_postgres_database(url)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "district.json").write_text(json.dumps(results, indent=2))
    below = [f"{r['engine']} {r['endpoint']}" for r in results if not r["meets"]]
    print(f"{len(results) - len(below)} of {len(results)} measurements meet their targets")


if __name__ == "__main__":
    main()
