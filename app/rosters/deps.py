"""Who may import, and the imports a caller may read (404 before the handler runs)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.principal import Principal, Scope
from app.core.access import load_visible
from app.core.deps import SessionDep
from app.rosters import policies
from app.rosters.models import RosterImport
from app.users.models import Role

RosterWriter = Annotated[
    Principal,
    Depends(require(roles=(Role.school_admin, Role.district_admin), scope=Scope.roster_write)),
]


async def get_visible_import(
    import_id: uuid.UUID, session: SessionDep, caller: RosterWriter
) -> RosterImport:
    return await load_visible(
        session,
        RosterImport,
        import_id,
        policies.visible_imports(caller),
        missing="No such roster import",
    )


VisibleImport = Annotated[RosterImport, Depends(get_visible_import)]
