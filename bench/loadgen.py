"""A small HTTP/1.1 keep-alive load generator (run in its own process so it does not share the
server's core). Usage: python -m bench.loadgen HOST PORT PATH SECONDS CONNECTIONS [TOKEN]
Prints one JSON line: requests, seconds, rps, non_2xx, p50_ms, p99_ms."""

import asyncio
import json
import sys
import time


async def worker(
    host: str, port: int, request: bytes, deadline: float, stats: dict, lat: list
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            stats["n"] += 1
            if not 200 <= status < 300:
                stats["bad"] += 1
    finally:
        writer.close()


async def run(
    host: str, port: int, path: str, seconds: float, conns: int, token: str | None
) -> dict:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Accept: application/json\r\n\r\n".encode()
    )
    stats = {"n": 0, "bad": 0}
    lat: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(worker(host, port, request, deadline, stats, lat) for _ in range(conns)))
    elapsed = time.perf_counter() - start
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else None  # noqa: E731
    return {
        "requests": stats["n"],
        "seconds": round(elapsed, 2),
        "rps": round(stats["n"] / elapsed, 1),
        "non_2xx": stats["bad"],
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
    }


if __name__ == "__main__":
    host, port, path, seconds, conns = (
        sys.argv[1],
        int(sys.argv[2]),
        sys.argv[3],
        float(sys.argv[4]),
        int(sys.argv[5]),
    )
    token = sys.argv[6] if len(sys.argv) > 6 else None
    print(json.dumps(asyncio.run(run(host, port, path, seconds, conns, token))))
