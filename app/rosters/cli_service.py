"""`peercoach import-roster`: the API's import, run by the operator with district rights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio.to_thread

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import ProblemError
from app.rosters import service


async def import_file(settings: Settings, path: Path, *, dry_run: bool) -> dict[str, Any]:
    """Returns the result as a dict; on rejection {"errors": [...], "detail": ...}."""
    raw = await anyio.to_thread.run_sync(path.read_bytes)
    db = Database(settings)
    try:
        async with db.session(write=True) as session:
            text = service.decode(raw)
            rows = await anyio.to_thread.run_sync(service.parse_plain_csv, text)
            result = await service.run_import(
                session,
                Principal(system=True),
                rows,
                raw=raw,
                fmt="csv",
                filename=path.name,
                dry_run=dry_run,
            )
            return {
                "ok": True,
                "import_id": str(result.id),
                "errors": [],
                **result.model_dump(mode="json"),
            }
    except ProblemError as exc:
        return {
            "ok": False,
            "detail": exc.detail,
            "errors": [e.model_dump() for e in exc.errors or []],
        }
    finally:
        await db.dispose()
