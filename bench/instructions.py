"""The app's instructions per request, counted by valgrind's callgrind: a measure of a change
that a noisy machine does not move (bench/README.md, twenty-fifth session).

The whole app is called in-process, as uvicorn would call it (an ASGI `http` request with the
caller's bearer token, the app's lifespan around it), once with N requests and once with none,
each under `valgrind --tool=callgrind` with `PYTHONHASHSEED=0`; the difference divided by N is
one request's instructions. Two counts of the same tree differ by under 1,000 a request. Work
done by another process (PostgreSQL's server) is not counted; the app's own is, the journal's
and access log's batches included.

It reads a district seeded by `make bench` (`bench/district_seed.py`): with `BENCH_WORK` set,
a run keeps the SQLite database and `sqlite-ids.json`. `--seed URL` seeds one (a PostgreSQL
database of its own, say; the bench drops its own) and writes its ids file.

    BENCH_WORK=/tmp/bw BENCH_ENGINES=sqlite BENCH_ONLY=healthz make bench   # seed and keep
    python -m bench.instructions --url sqlite:////tmp/bw/bench.db --ids /tmp/bw/sqlite-ids.json \\
        --who school_admin '/api/v1/schools/{school}'
    python -m bench.instructions ... --tree /tmp/before   # another checkout: an A/B pair

The path's `{names}` are the ids file's keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _requests(app: Any, path: str, token: str, count: int) -> None:
    """Run `count` GETs of `path` (after ten to warm up) inside the app's lifespan."""
    raw, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw,
        "raw_path": raw.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def one() -> int:
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(dict(scope), receive, send)
        return status

    async def run() -> None:
        async with app.router.lifespan_context(app):
            for _ in range(10):
                status = await one()
                if status >= 400:
                    raise SystemExit(f"GET {path} answered {status}")
            for _ in range(count):
                await one()

    asyncio.run(run())


def _harness(url: str, ids_file: str, who: str, path: str, count: int) -> None:
    """The counted process: the app on `url`, `count` requests as `who`."""
    os.environ.update(
        DATABASE_URL=url,
        ENVIRONMENT="production",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "instructions-" + "k" * 40,
        PUBLIC_URL="http://127.0.0.1:8000",
    )
    from app.core.config import Settings
    from app.core.security import create_access_token
    from app.main import create_app

    ids = json.loads(Path(ids_file).read_text())
    settings = Settings()
    token = create_access_token(settings, uuid.UUID(ids[who]), 0)[0]
    _requests(create_app(settings), path.format(**ids), token, count)


def _counted(tree: Path, argv: list[str], count: int) -> int:
    """Instructions of one harness run under callgrind."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,  # this harness, with `app` from the tree counted (PYTHONPATH)
            "--harness",
            str(count),
            *argv,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"the counted run failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return int(found.group(1))


def _seed(url: str, ids_file: str) -> None:
    from app.core.migrations import upgrade
    from bench.district_seed import seed

    upgrade(url)
    district = seed(url, Path(ids_file).parent)
    ids = {k: v for k, v in asdict(district).items() if isinstance(v, str)}
    Path(ids_file).write_text(json.dumps(ids, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="a GET path; {names} from the ids file")
    parser.add_argument("--url", required=True, help="the seeded database")
    parser.add_argument("--ids", required=True, help="its ids file (written by --seed)")
    parser.add_argument("--who", default="teacher", help="the caller: a key of the ids file")
    parser.add_argument("-n", type=int, default=300, help="requests counted")
    parser.add_argument("--tree", default=str(ROOT), help="the checkout to count")
    parser.add_argument("--seed", action="store_true", help="seed --url first")
    parser.add_argument("--harness", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harness is not None:
        _harness(args.url, args.ids, args.who, args.path, args.harness)
        return
    if args.seed:
        _seed(args.url, args.ids)
    argv = [args.path, "--url", args.url, "--ids", args.ids, "--who", args.who]
    tree = Path(args.tree).resolve()
    with_requests = _counted(tree, argv, args.n)
    without = _counted(tree, argv, 0)
    print(f"{args.path} as {args.who} ({tree}): {(with_requests - without) // args.n} instructions")


if __name__ == "__main__":
    main()
