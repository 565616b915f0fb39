"""Rows written without slowing the requests that note them (the confidential-read log, the
audit trail's sign-ins and reads, integration keys' last use): they gather in memory and are
written together, every `read_log_flush_seconds`, on a connection of their own (never the
request's, never the read interface's). With 0 each row is written before the request answers
(the tests' setting). A row is lost only if the process dies within that interval; a failed
write is retried with the next batch (at most `MAX_PENDING` rows wait)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel

from app.core.db import async_url, configure_sqlite, table_of

MAX_PENDING = 50_000
log = logging.getLogger("peercoach.journal")


class Journal:
    def __init__(self, database_url: str, flush_seconds: float, busy_timeout_ms: int) -> None:
        self._url = async_url(database_url)
        self._every = flush_seconds
        self._busy_ms = busy_timeout_ms
        self._engine: AsyncEngine | None = None
        self._pending: list[tuple[type[SQLModel], dict[str, Any]]] = []
        self._touched: dict[tuple[type[SQLModel], Any], dict[str, Any]] = {}
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None

    def _connect(self) -> AsyncEngine:
        if self._engine is None:
            sqlite = self._url.get_backend_name() == "sqlite"
            self._engine = create_async_engine(self._url, pool_size=1, max_overflow=0)
            if sqlite:
                configure_sqlite(self._engine.sync_engine, self._busy_ms)
        return self._engine

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
        """Write what has gathered, in one transaction."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            batch, self._pending = self._pending, []
            touched, self._touched = self._touched, {}
            if not batch and not touched:
                return
            try:
                engine = self._connect().execution_options(sqlite_begin="IMMEDIATE")
                by_table: dict[type[SQLModel], list[dict[str, Any]]] = {}
                for model, row in batch:
                    by_table.setdefault(model, []).append(row)
                async with engine.begin() as conn:
                    for model, rows in by_table.items():
                        await conn.execute(insert(table_of(model)), rows)
                    for (model, row_id), values in touched.items():
                        table = table_of(model)
                        await conn.execute(
                            update(table).where(table.c.id == row_id).values(**values)
                        )
            except Exception:
                log.warning("journal not written; retrying with the next batch", exc_info=True)
                self._pending = (batch + self._pending)[-MAX_PENDING:]
                self._touched = {**touched, **self._touched}
                if self._every <= 0:
                    raise

    def start(self) -> None:
        if self._every > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self.flush()

    async def stop(self) -> None:
        """Write what is left and close the connection (the app is shutting down)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
