import uuid
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from app.auth.deps import require
from app.auth.principal import Principal, Scope
from app.core.deps import SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep, paginate
from app.rosters import service
from app.rosters.schemas import ImportResult, JsonImport, RosterImportPublic
from app.users.models import Role

router = APIRouter(prefix="/roster-imports", tags=["roster imports"])

RosterWriter = Annotated[
    Principal,
    Depends(require(roles=(Role.school_admin, Role.district_admin), scope=Scope.roster_write)),
]


@router.post("", status_code=201, responses=error_responses(401, 403, 422))
async def import_roster_file(
    session: SessionDep,
    caller: RosterWriter,
    file: Annotated[
        UploadFile, File(description="A CSV file: email, given name, family name, role, school")
    ],
    dry_run: Annotated[
        bool, Form(description="Report what would change and write nothing")
    ] = False,
    format: Annotated[
        Literal["auto", "csv"], Form(description="Only the plain CSV so far")
    ] = "auto",
) -> ImportResult:
    """Import staff from a plain CSV a spreadsheet can make. Columns (any case; common aliases
    such as "First name" work): email, given name, family name, role (teacher, school_admin /
    administrator / principal, district_admin), school (name or roster id, several separated
    by `;`), optional sourced_id. People are matched by sourced_id, else email, and created or
    updated. Any row error rejects the whole file with every problem listed (`errors`: row and
    column); re-running the same file changes nothing. School administrators import staff of
    their own schools; district administrators and `roster:write` keys, anyone."""
    raw = await file.read()
    text = service.decode(raw)
    rows = await anyio.to_thread.run_sync(service.parse_plain_csv, text)
    return await service.run_import(
        session, caller, rows, raw=raw, fmt="csv", filename=file.filename, dry_run=dry_run
    )


@router.post("/json", status_code=201, responses=error_responses(401, 403, 422))
async def import_roster_json(
    body: JsonImport, session: SessionDep, caller: RosterWriter
) -> ImportResult:
    """The same import for scripts: a JSON list of people with the CSV's columns."""
    rows = [
        (i, {k: v.strip() for k, v in p.model_dump().items() if isinstance(v, str)})
        for i, p in enumerate(body.people, start=1)
    ]
    raw = body.model_dump_json().encode()
    return await service.run_import(
        session, caller, rows, raw=raw, fmt="json", filename=None, dry_run=body.dry_run
    )


@router.get("", responses=error_responses(401, 403, 422))
async def list_roster_imports(
    request: Request, session: SessionDep, caller: RosterWriter, page: PageDep
) -> Page[RosterImportPublic]:
    """Past imports, newest first: who ran them, the file and its hash, counts, errors, time.
    School administrators see the imports they ran."""
    stmt = service.imports_statement(caller)
    return await paginate(session, stmt, page, request, Page[RosterImportPublic])


@router.get("/{import_id:uuid}", responses=error_responses(401, 403, 404, 422))
async def get_roster_import(
    import_id: uuid.UUID, session: SessionDep, caller: RosterWriter
) -> RosterImportPublic:
    """One import's record."""
    row = await service.get_import(session, caller, import_id)
    return RosterImportPublic.model_validate(row, from_attributes=True)
