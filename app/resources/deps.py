"""Library resources the caller may read or curate, or 404/403 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import Admin, StaffCaller
from app.core.access import load_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import NotFound
from app.resources import policies, service
from app.resources.models import Resource
from app.resources.schemas import ResourcePublic

MISSING = "No such resource"


async def get_resource_view(
    resource_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> ResourcePublic:
    """The resource as the API shows it (with your reviewed mark): the list's statement plus
    the id."""
    found = await reads.one(ResourcePublic, service.one_statement(caller, resource_id))
    if found is None:
        raise NotFound(MISSING)
    return found


ResourceView = Annotated[ResourcePublic, Depends(get_resource_view)]


async def get_readable_resource(
    resource_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> Resource:
    return await load_visible(
        session, Resource, resource_id, policies.readable(caller), missing=MISSING
    )


ReadableResource = Annotated[Resource, Depends(get_readable_resource)]


async def get_curatable_resource(
    resource_id: uuid.UUID, session: SessionDep, caller: Admin
) -> Resource:
    return await load_visible(
        session, Resource, resource_id, policies.readable(caller), missing=MISSING, lock=True
    )


CuratableResource = Annotated[Resource, Depends(get_curatable_resource)]
