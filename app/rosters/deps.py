"""Who may import, and the imports a caller may read (404 before the handler runs)."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.principal import Principal, Scope
from app.core.access import read_visible
from app.core.deps import ReadsDep
from app.core.errors import NotFound
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


async def open_visible_import(
    import_id: uuid.UUID, reads: ReadsDep, caller: RosterWriter
) -> AsyncIterator[uuid.UUID]:
    """The id of an import the caller may read, with a snapshot open for reading its rows."""
    async with reads.snapshot():
        if await reads.value(service.seen_statement(caller, import_id)) is None:
            raise NotFound(MISSING)
        yield import_id


VisibleImportId = Annotated[uuid.UUID, Depends(open_visible_import, scope="function")]
