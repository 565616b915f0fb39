import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.auth.deps import Admin, StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.resources import service
from app.resources.deps import CuratableResource, ReadableResource, ResourceView
from app.resources.schemas import ResourceCreate, ResourcePublic, ResourceUpdate

router = APIRouter(prefix="/resources", tags=["resources"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_resources(
    reads: ReadsDep,
    principal: StaffCaller,
    page: PageDep,
    focus_area_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Title contains")] = None,
    reviewed: Annotated[
        bool | None, Query(description="Only those you have (not) reviewed")
    ] = None,
) -> Page[ResourcePublic]:
    """The peer coaching resource library, by title, with whether you have reviewed each."""
    query, values = service.list_query(principal, focus_area_id, q, reviewed)
    return await reads.page(ResourcePublic, query, page, values)


@router.post("", status_code=201, responses=error_responses(401, 403, 422))
async def create_resource(
    body: ResourceCreate, session: SessionDep, caller: Admin
) -> ResourcePublic:
    """Add a resource: a link or a text, tagged with focus areas (administrators)."""
    return await service.create(session, caller, body)


@router.get("/{resource_id}", responses=error_responses(401, 403, 404, 422))
async def get_resource(found: ResourceView) -> ResourcePublic:
    """One resource."""
    return found


@router.patch("/{resource_id}", responses=error_responses(401, 403, 404, 422))
async def update_resource(
    resource: CuratableResource, body: ResourceUpdate, session: SessionDep, caller: Admin
) -> ResourcePublic:
    """Edit a resource; `focus_area_ids` replaces its tags (administrators)."""
    return await service.update(session, caller, resource, body)


@router.delete("/{resource_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_resource(resource: CuratableResource, session: SessionDep) -> Response:
    """Retire a resource from the library (administrators)."""
    await service.soft_delete(session, resource)
    return Response(status_code=204)


@router.put("/{resource_id}/review", responses=error_responses(401, 403, 404, 422))
async def mark_resource_reviewed(
    resource: ReadableResource, session: SessionDep, caller: StaffCaller
) -> ResourcePublic:
    """Mark the resource as reviewed by you."""
    return await service.mark_reviewed(session, caller, resource, True)


@router.delete("/{resource_id}/review", responses=error_responses(401, 403, 404, 422))
async def unmark_resource_reviewed(
    resource: ReadableResource, session: SessionDep, caller: StaffCaller
) -> ResourcePublic:
    """Take back your reviewed mark."""
    return await service.mark_reviewed(session, caller, resource, False)
