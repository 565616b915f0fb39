"""Rows written without slowing the requests that note them (the confidential-read log, the
audit trail's sign-ins and reads, integration keys' last use): they gather in memory and are
written together, every `read_log_flush_seconds`, in a write transaction of the driver's own
(`Driver.transaction`: never the request's, never the read interface's), each table's rows as
one statement run for each (`Driver.write_many`). With 0 each row is written before the request
answers (the tests' setting). A row is lost only if the process dies within that interval; a
failed write is retried with the next batch (at most `MAX_PENDING` rows wait).

On SQLite the batch runs on the event loop, as every write transaction of the driver does (the
write lock waited for on a thread only while another process holds it). On a connection and
thread of its own (aiosqlite), SQLite gave the interpreter back to the requests at each row
and took it again: a teacher's read of an observation record, which notes a row of the read log
and one of the audit trail, answered 2,340-2,440 rps under wrk with its batches written there
and 2,830-2,890 on the event loop (3,330-3,520 with nothing written at all)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any

from sqlalchemy import Insert, insert, update
from sqlmodel import SQLModel

from app.core.db import table_of
from app.core.drivers import Driver

MAX_PENDING = 50_000
# Rows one transaction writes at most. On SQLite a batch runs on the event loop: 500 rows (250
# confidential reads) held it about 10 ms on the bench machine, 200 about 4; a whole half
# second's batch at 2,800 reads a second held it 30-60 ms, and the p99 of a read of an
# observation record under wrk rose from 40 to 120 ms.
ROWS_AT_ONCE = 200
log = logging.getLogger("peercoach.journal")


@functools.cache
def _insert(model: type[SQLModel]) -> Insert:
    """The table's INSERT of every column, built once (a template for `Driver.write_many`)."""
    return insert(table_of(model))


class Journal:
    def __init__(self, driver: Driver, flush_seconds: float) -> None:
        self._driver = driver
        self._every = flush_seconds
        self._pending: list[tuple[type[SQLModel], dict[str, Any]]] = []
        self._touched: dict[tuple[type[SQLModel], Any], dict[str, Any]] = {}
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None

    async def note(self, *rows: tuple[type[SQLModel], dict[str, Any]]) -> None:
        """Write these rows (a table model and its columns' values) with the next batch."""
        self._pending.extend(rows)
        if self._every <= 0:
            await self.flush()

    async def touch(self, model: type[SQLModel], row_id: Any, **values: Any) -> None:
        """Set these columns of one row (by `id`) with the next batch; touching it again before
        then only changes what is written."""
        self._touched[(model, row_id)] = values
        if self._every <= 0:
            await self.flush()

    def touching(self, model: type[SQLModel], row_id: Any) -> bool:
        """Whether a change of this row waits for the next batch."""
        return (model, row_id) in self._touched

    async def flush(self) -> None:
        """Write what has gathered, in transactions of at most `ROWS_AT_ONCE` rows, the event
        loop free for the requests between them."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            batch, self._pending = self._pending, []
            touched, self._touched = self._touched, {}
            written = 0
            try:
                while written < len(batch) or touched:
                    part = batch[written : written + ROWS_AT_ONCE]
                    await self._write(part, touched)
                    written += len(part)
                    touched = {}
                    if written < len(batch):
                        await asyncio.sleep(0)  # the requests waiting meanwhile go first
            except Exception:
                log.warning("journal not written; retrying with the next batch", exc_info=True)
                self._pending = (batch[written:] + self._pending)[-MAX_PENDING:]
                self._touched = {**touched, **self._touched}
                if self._every <= 0:
                    raise

    async def _write(
        self,
        rows: list[tuple[type[SQLModel], dict[str, Any]]],
        touched: dict[tuple[type[SQLModel], Any], dict[str, Any]],
    ) -> None:
        """These rows and changes in one transaction."""
        by_table: dict[type[SQLModel], list[dict[str, Any]]] = {}
        for model, row in rows:
            by_table.setdefault(model, []).append(row)
        driver = self._driver
        async with driver.transaction() as writing:
            for model, values in by_table.items():
                driver.write_many(_insert(model), values, on=writing)
            for (model, row_id), changed in touched.items():
                table = table_of(model)
                change = update(table).where(table.c.id == row_id).values(**changed)
                driver.write_later(change, None, False, on=writing)

    def start(self) -> None:
        if self._every > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self.flush()

    async def stop(self) -> None:
        """Write what is left (the app is shutting down, its database not yet closed)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush()
