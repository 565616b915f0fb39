"""Serving the app with uvicorn, and stopping without dropping a request.

On SIGTERM (what orchestrators send, `docker stop` included) uvicorn would stop accepting at
once: connections already queued by the kernel, and keep-alive connections a client is about to
reuse, were reset unanswered. `DrainingServer` stops in three steps instead:

1. drain (`SHUTDOWN_DRAIN_SECONDS`): the app is marked draining (lifecycle.py), so `/readyz`
   answers 503 and load balancers stop sending requests; everything that still arrives is
   served, each answer with `Connection: close`;
2. uvicorn's graceful shutdown: stop accepting, let in-flight requests finish (at most
   `SHUTDOWN_GRACE_SECONDS`), run the app's shutdown;
3. exit.

SIGINT (Ctrl-C) or a second signal skips the drain. With several workers, the supervising
process closes its copy of the listening socket when it is told to stop, so once the workers
have stopped accepting, new connections are refused instead of queued and then reset.

This module is the one place that relies on uvicorn's internals (Server.handle_exit and on_tick,
and the supervisor's `Process` name); tests/test_shutdown.py pins the behaviour and the range of
uvicorn versions it was written for.
"""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any, Literal

import uvicorn
from uvicorn.supervisors import multiprocess

from app.core.config import Settings
from app.core.lifecycle import Lifecycle

TESTED_UVICORN = ((0, 54), (0, 55))  # [from, to): the versions this module was written for


def _app_state(app: Any) -> Any:
    """The FastAPI app's state, under whatever middleware uvicorn wrapped it in."""
    for _ in range(10):
        state = getattr(app, "state", None)
        if isinstance(getattr(state, "lifecycle", None), Lifecycle):
            return state
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


class DrainingServer(uvicorn.Server):
    """uvicorn's server, with the drain step (the app's `SHUTDOWN_DRAIN_SECONDS`)."""

    drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        state = _app_state(self.config.loaded_app)
        if (
            sig == signal.SIGTERM
            and state is not None
            and state.settings.shutdown_drain_seconds > 0
            and self.drain_until is None
            and not self.should_exit
        ):
            self._captured_signals.append(sig)  # re-raised after the shutdown, as uvicorn does
            state.lifecycle.draining = True
            self.drain_until = time.monotonic() + state.settings.shutdown_drain_seconds
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.drain_until is not None and time.monotonic() >= self.drain_until:
            self.should_exit = True
        return await super().on_tick(counter)


class DrainingProcess(multiprocess.Process):
    """A worker process of the supervisor that runs a DrainingServer."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = DrainingServer(self.config)
        return self._server


class DrainingSupervisor(multiprocess.Multiprocess):
    def terminate_all(self) -> None:
        # The workers keep their own copies of the listening socket while they drain; the
        # supervisor's copy would keep the port accepting after they have all stopped.
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def event_loop(settings: Settings, workers: int) -> Literal["asyncio", "uvloop"]:
    """The event loop to serve with (`EVENT_LOOP`; auto: asyncio's for one worker, uvloop for
    several).

    uvloop, through libuv 1.45 and later, accepts one connection per turn of the loop. Under
    load a turn runs many requests' steps (on SQLite whole requests: its statements run on the
    loop's thread), so 32 clients connecting at once to one worker were accepted over 1.2 s on
    SQLite, the last one's first answer taking as long, and a created event's p99 on PostgreSQL
    was 327 ms against 230 (bench/README.md, thirteenth session). asyncio's loop accepts every
    waiting connection in a turn and, at district scale, answered as many requests a second on
    both engines. With several workers sharing a port that greed is the problem instead: the
    worker that wakes first would take every waiting connection, busy or not; one accept per
    turn spreads them, so several workers run uvloop.
    """
    if settings.event_loop != "auto":
        return settings.event_loop
    return "asyncio" if workers == 1 else "uvloop"


def serve(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    grace_seconds: float,
    loop: Literal["asyncio", "uvloop"],
) -> None:
    """Serve `app` (an import string) with `workers` processes, stopping as described above."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        loop=loop,
        proxy_headers=True,
        access_log=False,
        timeout_graceful_shutdown=max(1, round(grace_seconds)),
    )
    if workers == 1:
        DrainingServer(config).run()
        return
    sock = config.bind_socket()
    multiprocess.Process = DrainingProcess  # type: ignore[misc]  # how the supervisor makes workers
    DrainingSupervisor(config, sockets=[sock]).run()
