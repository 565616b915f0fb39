import uuid
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.deps import ReadsDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, error_responses
from app.core.links import link
from app.core.pagination import Page, PageDep
from app.invitations import policies as invitation_policies
from app.invitations import service as invitations
from app.rosters import service, sources
from app.rosters.deps import ImportView, RosterWriter, WithinVisibleImport
from app.rosters.formats import RosterFormat
from app.rosters.schemas import (
    ImportMode,
    ImportResult,
    JsonImport,
    RosterImportPublic,
    RowOutcome,
)

router = APIRouter(prefix="/roster-imports", tags=["roster imports"])


JSON_IMPORT_REF = "#/components/schemas/JsonImport"


async def _json_import(raw: bytes) -> JsonImport:
    try:
        return await anyio.to_thread.run_sync(JsonImport.model_validate_json, raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


def _with_rows_link(result: ImportResult, request: Request) -> ImportResult:
    if result.rows_total > len(result.rows):
        rows = request.url.replace(
            path=f"{request.url.path.removesuffix('/json')}/{result.id}/rows"
        )
        result.rows_next = link(request, rows.replace(query=f"offset={len(result.rows)}"))
    return result


async def _invite_new(
    session: AsyncSession, caller: Principal, import_id: uuid.UUID, settings: Settings
) -> int:
    if not invitation_policies.can_invite_imported(caller):
        raise Forbidden("Administrators and roster keys invite the people they import")
    return await invitations.invite_imported(session, caller, import_id, settings)


def _refresh_statistics_after(background: BackgroundTasks, request: Request, dry_run: bool) -> None:
    """Once the import has committed and been answered, refresh SQLite's planner statistics
    (Database.refresh_statistics): thousands of new staff change which plan is best."""
    if not dry_run:
        background.add_task(request.app.state.db.refresh_statistics)


@router.post("", status_code=201, responses=error_responses(401, 403, 413, 422, 429))
async def import_roster_file(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    caller: RosterWriter,
    file: Annotated[
        list[UploadFile],
        File(
            description="One CSV, one zip, or the loose CSV files of one export (send the "
            "`file` part once per file)"
        ),
    ],
    format: Annotated[
        RosterFormat,
        Form(
            description="`auto` tells OneRoster, Clever and the plain CSV apart by file names "
            "and headers"
        ),
    ] = RosterFormat.auto,
    mode: Annotated[
        ImportMode,
        Form(
            description="`upsert` creates and updates; `sync` also deactivates staff of the "
            "covered schools who are absent (bulk) or marked tobedeleted (delta)"
        ),
    ] = ImportMode.upsert,
    dry_run: Annotated[
        bool, Form(description="Report what would change and write nothing")
    ] = False,
    force: Annotated[
        bool,
        Form(
            description="Let a sync deactivate more than ROSTER_SYNC_MAX_DEACTIVATE_SHARE of "
            "the covered schools' active staff"
        ),
    ] = False,
    invite_new: Annotated[
        bool,
        Form(description="Invite every person the import creates to set their password"),
    ] = False,
) -> ImportResult:
    """Import staff from a OneRoster 1.1/1.2 export (zip with manifest.csv, or the loose
    orgs.csv, users.csv and roles.csv), Clever files (schools.csv, teachers.csv, staff.csv) or
    a plain CSV a spreadsheet can make (email, given name, family name, role, school; any case,
    common aliases such as "First name" work; several schools separated by `;`).

    People are matched by roster id, else email, and created, updated or left unchanged;
    schools from org files likewise. Students, guardians and other non-staff roles are skipped
    and counted. Any row error rejects the whole import with every problem listed (`errors`:
    file, row and column) and nothing is written; re-running the same file changes nothing.
    School administrators import staff of their own schools; district administrators and
    `roster:write` keys, anyone."""
    streams = [(f.filename, f.file) for f in file]
    limit = settings.roster_max_unzipped_bytes
    options = service.ImportOptions.from_settings(
        settings, format, mode, dry_run=dry_run, force=force
    )
    result = await service.import_files(
        session, caller, lambda: sources.from_streams(streams, max_unzipped=limit), options
    )
    if invite_new and not dry_run:
        result.invited = await _invite_new(session, caller, result.id, settings)
    _refresh_statistics_after(background, request, dry_run)
    return _with_rows_link(result, request)


@router.post(
    "/json",
    status_code=201,
    responses=error_responses(401, 403, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": JSON_IMPORT_REF}}},
        }
    },
)
async def import_roster_json(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: RosterWriter,
    background: BackgroundTasks,
) -> ImportResult:
    """The same import for scripts: a JSON list of people with the plain CSV's columns.

    The body (up to 100,000 people) is read and checked off the event loop, so a large import
    does not hold up the other requests this worker serves."""
    body = await _json_import(await request.body())
    options = service.ImportOptions.from_settings(
        settings, RosterFormat.csv, body.mode, dry_run=body.dry_run, force=body.force
    )
    rows = (
        (i, {k: v.strip() for k, v in p.model_dump().items() if isinstance(v, str)})
        for i, p in enumerate(body.people, start=1)
    )
    roster = await anyio.to_thread.run_sync(service.roster_of_rows, rows, options)
    result = await service.import_roster(
        session, caller, roster, sha256=sources.sha256_of(body.model_dump_json().encode()),
        filename=None, options=options,
    )  # fmt: skip
    if body.invite_new and not body.dry_run:
        result.invited = await _invite_new(session, caller, result.id, settings)
    _refresh_statistics_after(background, request, body.dry_run)
    return _with_rows_link(result, request)


@router.get("", responses=error_responses(401, 403, 422))
async def list_roster_imports(
    request: Request, reads: ReadsDep, caller: RosterWriter, page: PageDep
) -> Page[RosterImportPublic]:
    """Past imports, newest first: who ran them, the file and its hash, counts, errors, time.
    School administrators see the imports they ran."""
    query, values = service.imports_query(caller)
    return await reads.page(RosterImportPublic, query, page, values)


@router.get("/{import_id:uuid}", responses=error_responses(401, 403, 404, 422))
async def get_roster_import(found: ImportView) -> RosterImportPublic:
    """One import's record."""
    return found


@router.get("/{import_id:uuid}/rows", responses=error_responses(401, 403, 404, 422))
async def list_roster_import_rows(
    import_id: uuid.UUID,
    visible: WithinVisibleImport,
    reads: ReadsDep,
    page: PageDep,
    action: Annotated[
        str | None,
        Query(
            pattern="^(created|updated|unchanged|deactivated)$",
            description="Only people the import created, updated, left unchanged or deactivated",
        ),
    ] = None,
) -> Page[RowOutcome]:
    """What an import did (a dry run: would do) to each person, in file order, a page at a
    time."""
    query, values = service.rows_query(import_id, action)
    return await reads.page(RowOutcome, query, page, values, within=visible)
