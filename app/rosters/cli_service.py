"""`peercoach import-roster`: the API's import, run by the operator with district rights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import ProblemError
from app.invitations import service as invitations
from app.rosters import service, sources
from app.rosters.formats import RosterFormat
from app.rosters.schemas import ImportMode
from app.rosters.sources import Progress


async def import_path(
    settings: Settings,
    path: Path,
    *,
    fmt: RosterFormat = RosterFormat.auto,
    sync: bool = False,
    dry_run: bool = False,
    force: bool = False,
    invite_new: bool = False,
    on_total: Any = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Returns the result as a dict with `ok`; on rejection {"ok": False, "errors": [...]}."""
    mode = ImportMode.sync if sync else ImportMode.upsert
    options = service.ImportOptions.from_settings(settings, fmt, mode, dry_run=dry_run, force=force)

    def open_files() -> sources.RosterFiles:
        files = sources.from_path(path, max_unzipped=settings.roster_max_unzipped_bytes)
        if on_total is not None:
            on_total(files.total_bytes)
        files.progress = on_progress
        return files

    db = Database(settings)
    try:
        operator = Principal(system=True)
        async with db.session() as session:
            result = await service.import_files(session, operator, open_files, options)
            if invite_new and not dry_run:  # in the import's transaction: all or nothing
                result.invited = await invitations.invite_imported(
                    session, operator, result.id, settings
                )
        if not dry_run:
            await db.refresh_statistics()  # committed: the planner should know the new sizes
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
