"""Who may import, and the imports a caller may read (404 before the handler runs)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.principal import Principal, Scope
from app.core.access import read_visible
from app.core.deps import ReadsDep
from app.core.reads import Within
from app.rosters import service
from app.rosters.schemas import RosterImportPublic
from app.users.models import Role

RosterWriter = Annotated[
    Principal,
    Depends(require(roles=(Role.school_admin, Role.district_admin), scope=Scope.roster_write)),
]


MISSING = "No such roster import"


async def get_import_view(
    import_id: uuid.UUID, reads: ReadsDep, caller: RosterWriter
) -> RosterImportPublic:
    one = service.import_statement(caller, import_id)
    return await read_visible(reads, RosterImportPublic, one, missing=MISSING)


ImportView = Annotated[RosterImportPublic, Depends(get_import_view)]


async def within_visible_import(import_id: uuid.UUID, caller: RosterWriter) -> Within:
    """An import the caller must read for its rows to be listed: its check goes with the page
    (`Reads.page(within=)`), which answers 404 for an import they may not read."""
    return Within(service.seen_statement(caller, import_id), MISSING)


WithinVisibleImport = Annotated[Within, Depends(within_visible_import)]
