"""The readiness check: one probe at a time per worker, its answer kept for a second, so a
flood of probes costs the database one connection a second at most."""

from __future__ import annotations

import asyncio
import logging
import time

from app.core.db import Database
from app.core.errors import ServiceUnavailable
from app.core.migrations import head_revision

log = logging.getLogger("peercoach.health")


class Probe:
    def __init__(self, keep_seconds: float = 1.0) -> None:
        self.keep_seconds = keep_seconds
        self._lock = asyncio.Lock()
        self._at = -1e9
        self._answer: str | ServiceUnavailable = ServiceUnavailable()

    async def migration(self, db: Database) -> str:
        """The database's migration (head), or ServiceUnavailable saying what is wrong."""
        async with self._lock:
            if time.monotonic() - self._at > self.keep_seconds:
                self._answer = await self._check(db)
                self._at = time.monotonic()
        if isinstance(self._answer, ServiceUnavailable):
            raise ServiceUnavailable(self._answer.detail or "The database is unavailable")
        return self._answer

    @staticmethod
    async def _check(db: Database) -> str | ServiceUnavailable:
        try:
            current = await db.driver.probe()
        except Exception as exc:
            log.warning("readiness: database unreachable (%s)", type(exc).__name__)
            return ServiceUnavailable("The database is unreachable")
        if current is None:
            return ServiceUnavailable("The database is not migrated; run `peercoach migrate`")
        if current != head_revision():
            return ServiceUnavailable(
                f"The database schema is at {current}, expected {head_revision()}"
            )
        return current
