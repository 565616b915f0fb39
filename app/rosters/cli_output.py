"""What `peercoach import-roster` prints: a progress bar and a summary table on a terminal,
one JSON object with `--json` (for cron jobs and scripts)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.core.config import Settings
from app.rosters.cli_service import import_path
from app.rosters.formats import RosterFormat

COUNTS = ("created", "updated", "unchanged", "deactivated", "skipped")


def run_import(
    settings: Settings,
    path: Path,
    *,
    fmt: str,
    sync: bool,
    force: bool,
    dry_run: bool,
    as_json: bool,
    invite_new: bool = False,
) -> int:
    try:
        roster_format = RosterFormat(fmt)
    except ValueError:
        choices = ", ".join(f.value for f in RosterFormat)
        raise ValueError(f"--format must be one of {choices}, not {fmt!r}") from None
    err = Console(stderr=True)
    kwargs: dict[str, Any] = {
        "fmt": roster_format,
        "sync": sync,
        "dry_run": dry_run,
        "force": force,
        "invite_new": invite_new,
    }
    if err.is_terminal and not as_json:
        with Progress(
            TextColumn("reading {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task(path.name, total=None)
            result = asyncio.run(
                import_path(
                    settings,
                    path,
                    on_total=lambda total: progress.update(task, total=total),
                    on_progress=lambda n: progress.advance(task, n),
                    **kwargs,
                )
            )
    else:
        result = asyncio.run(import_path(settings, path, **kwargs))
    if as_json:
        keys = (*COUNTS, "schools_created", "schools_updated", "invited", "import_id", "errors")
        out = {k: result.get(k) for k in keys} | {"ok": result["ok"]}
        if not result["ok"]:
            out["detail"] = result["detail"]
        sys.stdout.write(json.dumps(out) + "\n")
    elif result["ok"]:
        _summary(Console(), result, dry_run=dry_run)
    else:
        err.print(f"[red]rejected:[/red] {result['detail']}", highlight=False)
        table = Table("where", "problem", "kind")
        for e in result["errors"]:
            table.add_row(e["field"], e["message"], e["type"])
        err.print(table)
    return 0 if result["ok"] else 1


def _summary(console: Console, result: dict[str, Any], *, dry_run: bool) -> None:
    title = f"{'Dry run of ' if dry_run else ''}{result['format']} {result['mode']} import"
    table = Table(title=title)
    table.add_column("", style="bold")
    table.add_column("people", justify="right")
    table.add_column("schools", justify="right")
    for key in COUNTS:
        schools = result.get(f"schools_{key}")
        table.add_row(key, str(result[key]), "" if schools is None else str(schools))
    console.print(table)
    if result.get("invited"):
        console.print(f"invited: {result['invited']} (the worker emails them)", highlight=False)
    note = "nothing was written" if dry_run else "changes saved"
    console.print(f"import {result['import_id']}: {note}", highlight=False)
