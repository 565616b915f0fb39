"""A PostgreSQL notification channel, followed by one worker over a connection of its own.

`ChangeFeed` LISTENs on a channel and hands every payload to `deliver`. Whoever relies on it (a
cache that drops entries when told to) must know when it can: `on_live(True)` once the
connection listens, `on_live(False)` as soon as a message might have been missed. So:

- A lost connection (the server restarts, the network cuts it, the server terminates the
  backend) is noticed when the socket says so, and the feed reconnects with a backoff.
- A connection that dies silently (a firewall dropping idle connections) is noticed by the
  heartbeat: every `heartbeat` seconds the feed NOTIFYs a channel only it listens to, over the
  same connection; if that echo has not come back by the next beat, the feed is not live. This
  proves the one thing that matters: notifications still arrive.
- `poll()` reads what already waits on the socket, synchronously: callers run it before they
  trust what they were told, so a message that arrived is applied even if the event loop has
  not yet run the reader callback.

The feed owns its connection outright. After LISTEN it only uses libpq's non-blocking calls
(`consume_input`, `notifies`, `send_query`) from the event loop's reader callback, so reading
notifications never waits, and nothing else ever runs a command on that connection.

The event loop watches a duplicate of the connection's socket, owned by the feed. libpq closes
its own descriptor the moment it notices the connection is lost, and a loop still watching that
number would then watch whatever socket reuses it next (an accepted request, a pool connection):
that socket's readiness is never reported and its request hangs. The duplicate keeps the number
ours until the feed has stopped watching it and closes it itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger("peercoach.changes")

MAX_BACKOFF = 30.0


class ChangeFeed:
    def __init__(
        self,
        conninfo: str,
        channel: str,
        *,
        deliver: Callable[[str], None],
        on_live: Callable[[bool], None],
        heartbeat: float = 5.0,
        connect_timeout: int = 3,
    ) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.deliver = deliver
        self.on_live = on_live
        self.heartbeat = heartbeat
        self.connect_timeout = connect_timeout
        # The heartbeat's own channel: unique per feed, so no other worker hears our echoes.
        self.echo_channel = f"peercoach_echo_{uuid.uuid4().hex}"
        self.live = False
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._fd: int | None = None  # our duplicate of the connection's socket (see above)
        self._lost = asyncio.Event()
        self._awaiting_echo: str | None = None
        self._beats = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def poll(self) -> None:
        """Apply every notification already received, without waiting for more."""
        if self._conn is not None:
            self._drain()

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.conninfo,
                    autocommit=True,
                    connect_timeout=self.connect_timeout,
                    # Keep a quiet connection known to the network and find a dead peer.
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                )
            except Exception as exc:  # never let the feed die: it would stay off for good
                log.warning("change feed %s: cannot connect (%s)", self.channel, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            try:
                for channel in (self.channel, self.echo_channel):
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                self._attach(conn)
                backoff = 0.5
                while not self._lost.is_set():
                    self._beat()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._lost.wait(), self.heartbeat)
                log.warning("change feed %s: connection lost, reconnecting", self.channel)
            except Exception as exc:
                log.warning("change feed %s: %s", self.channel, exc)
            finally:
                self._detach(conn)
                await conn.close()
            await asyncio.sleep(backoff)

    def _attach(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn
        self._lost = asyncio.Event()
        self._awaiting_echo = None
        self._fd = os.dup(conn.fileno())
        asyncio.get_running_loop().add_reader(self._fd, self._drain)
        self.live = True
        self.on_live(True)

    def _detach(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if self._conn is conn:
            self._conn = None
            fd, self._fd = self._fd, None
            if fd is not None:
                loop = asyncio.get_running_loop()
                loop.remove_reader(fd)
                loop.remove_writer(fd)
                os.close(fd)
        if self.live:
            self.live = False
            self.on_live(False)

    def _fail(self, why: object) -> None:
        """Stop trusting this connection at once; the run loop reconnects."""
        log.warning("change feed %s: %s", self.channel, why)
        conn = self._conn
        if conn is not None:
            self._detach(conn)
        self._lost.set()

    def _beat(self) -> None:
        if self._awaiting_echo is not None:
            self._fail("the heartbeat did not come back")
            return
        conn = self._conn
        if conn is None:
            return
        self._beats += 1
        self._awaiting_echo = str(self._beats)
        query = sql.SQL("NOTIFY {}, {}").format(
            sql.Identifier(self.echo_channel), sql.Literal(self._awaiting_echo)
        )
        try:
            conn.pgconn.send_query(query.as_bytes(conn))
        except psycopg.Error as exc:
            self._fail(exc)
            return
        self._flush()

    def _flush(self) -> None:
        """Send what libpq still holds; if the socket is full, again when it is writable."""
        conn, fd = self._conn, self._fd
        if conn is None or fd is None:
            return
        loop = asyncio.get_running_loop()
        try:
            pending = conn.pgconn.flush() == 1
        except psycopg.Error as exc:
            self._fail(exc)
            return
        if pending:
            loop.add_writer(fd, self._flush)
        else:
            loop.remove_writer(fd)

    def _drain(self) -> None:
        conn = self._conn
        if conn is None:
            return
        pgconn = conn.pgconn
        try:
            pgconn.consume_input()
            # Results of our heartbeat NOTIFY: read and drop them.
            while not pgconn.is_busy() and pgconn.get_result() is not None:
                pass
        except psycopg.Error as exc:
            self._fail(exc)
            return
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            self._fail("connection closed")
            return
        while (n := pgconn.notifies()) is not None:
            payload = n.extra.decode()
            if n.relname.decode() == self.echo_channel:
                if payload == self._awaiting_echo:
                    self._awaiting_echo = None
                continue
            self.deliver(payload)
