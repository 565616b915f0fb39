"""PostgreSQL statements sent through libpq itself (psycopg's `pq` layer), for the driver.

Every statement of the read and write paths (`drivers.PostgresDriver`) goes through `run`: a
list of statements sent in one round trip (pipeline mode), answered with the last one's rows.
psycopg's cursor does the same work with more Python around it: per statement a cursor, its
query object, the prepared-statement manager's bookkeeping, and a generator stepped by a
waiting coroutine with a timer. On the bench machine a transaction of BEGIN, six INSERTs and
COMMIT cost 787 us of CPU through psycopg's pipeline and 203 us here; a one-row select 74 and
45 (bench/README.md, nineteenth session).

What is kept from psycopg: the connection (pooled, configured, closed by psycopg_pool), its
adapters (`Transformer`: parameters dumped and rows loaded exactly as a cursor would, the JSON
loader of `drivers._configure` included) and its error classes (`errors.error_from_result`: a
refused statement raises what a cursor would raise, a unique violation as `UniqueViolation`).
All of it is psycopg's documented API (`psycopg.pq`, `psycopg.adapt.Transformer`).

Statements come compiled by SQLAlchemy for psycopg (`%(name)s` placeholders, `%%` for a
percent sign) and are written once per text into PostgreSQL's (`$1`). Each connection prepares
a statement the first time it sends it (named, in the same round trip as its first execution)
and keeps it for the connection's life, up to `PREPARED` statements; past that, statements go
unnamed. A statement whose preparation the database refused (or skipped, after an earlier
error in the round trip) is prepared again the next time, under a new name: a name is never
reused, so a connection's prepared statements always mean what this module thinks.

A round trip cut short (the task cancelled, the connection lost) leaves the connection in the
middle of the protocol: it is closed at once, and the pool replaces it.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import abc, errors, pq
from psycopg.abc import Buffer
from psycopg.adapt import PyFormat, Transformer

PREPARED = 256  # named statements a connection keeps (the app has about 200 shapes)

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_Key = tuple[bytes, tuple[int, ...]]  # a statement's text and its parameters' types
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]+)\)s|(?P<positional>s)|(?P<percent>%))")


@functools.lru_cache(maxsize=4096)
def converted(sql: str) -> tuple[bytes, tuple[str, ...] | int]:
    """The statement in PostgreSQL's placeholders, and where its parameters come from: the
    names of a mapping's values in order, or how many positional values (`%s`)."""
    names: list[str] = []
    count = 0

    def place(match: re.Match[str]) -> str:
        nonlocal count
        if match["percent"]:
            return "%"
        if match["positional"]:
            count += 1
            return f"${count}"
        name = match["name"]
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    text = _PLACEHOLDER.sub(place, sql)
    if names and count:
        raise ValueError("a statement mixes named and positional placeholders")
    if "%" in _PLACEHOLDER.sub("", sql):
        raise ValueError(f"a placeholder psycopg's dialect does not write: {sql[:80]!r}")
    return text.encode(), tuple(names) if names else count


class _Connection:
    """What this module keeps for one connection: its adapters and prepared statements."""

    __slots__ = ("names", "prepared", "tx")

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # From the connection's adapters, not the connection: this is kept in a weak mapping
        # keyed by the connection, which a reference back would keep alive. Without one, text
        # is written and read as UTF-8, the encoding the pool's connections ask for.
        self.tx: abc.Transformer = Transformer(conn.adapters)
        self.prepared: dict[_Key, bytes] = {}
        self.names = 0

    def new_name(self) -> bytes:
        self.names += 1
        return b"_pc_%d" % self.names


_KEPT: WeakKeyDictionary[psycopg.AsyncConnection[Any], _Connection] = WeakKeyDictionary()


def _kept(conn: psycopg.AsyncConnection[Any]) -> _Connection:
    kept = _KEPT.get(conn)
    if kept is None:
        kept = _KEPT[conn] = _Connection(conn)
    return kept


async def run(
    conn: psycopg.AsyncConnection[Any], statements: Sequence[tuple[str, Any]]
) -> list[tuple[Any, ...]]:
    """Send the statements (sql, parameters: a mapping, a sequence or None) in one round
    trip and answer the last one's rows (none for a statement without). The first refused
    statement raises its psycopg error once the round trip is over (the later ones did not
    run). The connection is left out of pipeline mode, idle or in its transaction."""
    kept = _kept(conn)
    # Everything that can fail in Python (a value psycopg cannot adapt) fails before a byte is
    # queued: the connection stays as it was.
    messages = [_message(kept, sql, args) for sql, args in statements]
    pgconn = conn.pgconn
    if len(messages) == 1:  # alone and prepared (or without parameters): no pipeline
        (message,) = messages
        name = None
        if message.params is not None:
            name = kept.prepared.get((message.query, message.types))
        if message.params is None or name is not None:
            try:
                return await _alone(conn, kept, message, name)
            except errors.InvalidSqlStatementName:
                # Something dropped the connection's prepared statements (DEALLOCATE ALL,
                # DISCARD ALL): forget them all; outside a transaction nothing ran, so the
                # statement is prepared again and run below.
                kept.prepared.clear()
                if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                    raise
    pending: dict[_Key, bytes] = {}  # prepared in this round trip
    sent: list[_Key | None] = []  # per message sent: a preparation's key, or None
    pgconn.enter_pipeline_mode()
    try:
        for message in messages:
            _send(kept, pgconn, pending, sent, message)
        pgconn.pipeline_sync()
        results = await _results(pgconn, pipeline=True)
        pgconn.exit_pipeline_mode()
    except BaseException:
        # Cut short: what the server will still send cannot be told from the next caller's.
        pgconn.finish()
        raise
    refused = None
    rows: list[tuple[Any, ...]] = []
    for key, result in zip(sent, results, strict=True):
        status = result.status
        if status == pq.ExecStatus.FATAL_ERROR:
            refused = refused or result
        elif key is not None:  # a preparation
            if status == pq.ExecStatus.COMMAND_OK and len(kept.prepared) < PREPARED:
                kept.prepared[key] = pending[key]
        elif status in _OK:
            rows = _rows(kept.tx, result)
    if refused is not None:
        raise errors.error_from_result(refused, encoding=conn.info.encoding)
    return rows


async def _alone(
    conn: psycopg.AsyncConnection[Any], kept: _Connection, message: _Message, name: bytes | None
) -> list[tuple[Any, ...]]:
    """One statement, prepared before (`name`) or without parameters, outside pipeline mode
    (no entering and leaving it, no sync point to wait for)."""
    pgconn = conn.pgconn
    binary = pq.Format.BINARY
    try:
        if name is None:
            pgconn.send_query_params(message.query, None, result_format=binary)
        else:
            pgconn.send_query_prepared(
                name, message.params, param_formats=message.formats, result_format=binary
            )
        (result,) = await _results(pgconn, pipeline=False)
    except BaseException:
        pgconn.finish()  # as in `run`
        raise
    if result.status == pq.ExecStatus.FATAL_ERROR:
        raise errors.error_from_result(result, encoding=conn.info.encoding)
    return _rows(kept.tx, result)


@dataclass(frozen=True, slots=True)
class _Message:
    query: bytes
    params: Sequence[Buffer | None] | None  # None: a statement without parameters
    types: tuple[int, ...]
    formats: Sequence[pq.Format]


def _message(kept: _Connection, sql: str, args: Any) -> _Message:
    """The statement in PostgreSQL's placeholders with its parameters dumped."""
    query, source = converted(sql)
    if not source:
        return _Message(query, None, (), ())
    if isinstance(source, int):
        values = list(args)
    else:
        assert isinstance(args, Mapping)
        values = [args[name] for name in source]
    tx = kept.tx
    params = tx.dump_sequence(values, [PyFormat.AUTO] * len(values))
    return _Message(query, params, tuple(tx.types or ()), list(tx.formats or ()))


def _send(
    kept: _Connection,
    pgconn: pq.abc.PGconn,
    pending: dict[_Key, bytes],
    sent: list[_Key | None],
    message: _Message,
) -> None:
    binary = pq.Format.BINARY
    if message.params is None:
        pgconn.send_query_params(message.query, None, result_format=binary)
        sent.append(None)
        return
    key = (message.query, message.types)
    name = kept.prepared.get(key) or pending.get(key)
    if name is None and len(kept.prepared) + len(pending) < PREPARED:
        name = pending[key] = kept.new_name()
        pgconn.send_prepare(name, message.query, param_types=message.types)
        sent.append(key)
    if name is None:
        pgconn.send_query_params(
            message.query,
            message.params,
            param_types=message.types,
            param_formats=message.formats,
            result_format=binary,
        )
    else:
        pgconn.send_query_prepared(
            name, message.params, param_formats=message.formats, result_format=binary
        )
    sent.append(None)


def _rows(tx: abc.Transformer, result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
    if result.status != pq.ExecStatus.TUPLES_OK or not result.ntuples:
        return []
    tx.set_pgresult(result)
    return tx.load_rows(0, result.ntuples, tuple)


async def _results(pgconn: pq.abc.PGconn, *, pipeline: bool) -> list[pq.abc.PGresult]:
    """Flush what was sent, then every result: up to the pipeline's sync point, or (one
    statement outside a pipeline) until libpq says there are no more."""
    loop = asyncio.get_running_loop()
    fd = pgconn.socket
    while pgconn.flush():  # the socket's buffer is full: wait until it takes more
        await _ready(loop, fd, write=True)
        pgconn.consume_input()
    results: list[pq.abc.PGresult] = []
    waited = False
    while True:
        while pgconn.is_busy():
            if waited:
                await _ready(loop, fd, write=False)
            else:
                # The answer takes the server tens of microseconds. With other requests in
                # flight, one turn of the loop gives it that time: by then it is often in, and
                # the socket need not be watched (add_reader and remove_reader cost more than
                # the turn). With nothing else to run the turn is short and the socket is
                # watched next, as before.
                waited = True
                await asyncio.sleep(0)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # the end of one statement's results
            if pipeline:
                continue
            return results
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, *, write: bool) -> None:
    """Until the socket can be read (or, with `write`, either read or written)."""
    done: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, wake)
    if write:
        loop.add_writer(fd, wake)
    try:
        await done
    finally:
        loop.remove_reader(fd)
        if write:
            loop.remove_writer(fd)
