"""Who may import, and the imports a caller may read (404 before the handler runs)."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.principal import Principal, Scope
from app.core.access import check_visible, read_row
from app.core.deps import ReadsDep
from app.rosters import policies
from app.rosters.models import RosterImport
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
    visible = policies.visible_imports(caller)
    return await read_row(
        reads, RosterImportPublic, RosterImport, import_id, visible, missing=MISSING
    )


ImportView = Annotated[RosterImportPublic, Depends(get_import_view)]


async def open_visible_import(
    import_id: uuid.UUID, reads: ReadsDep, caller: RosterWriter
) -> AsyncIterator[uuid.UUID]:
    """The id of an import the caller may read, with a snapshot open for reading its rows."""
    async with reads.snapshot():
        visible = policies.visible_imports(caller)
        await check_visible(reads, RosterImport, import_id, visible, missing=MISSING)
        yield import_id


VisibleImportId = Annotated[uuid.UUID, Depends(open_visible_import, scope="function")]
