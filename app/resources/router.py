import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.deps import Admin, StaffCaller
from app.core.deps import ReaderDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep, build_page, fetch_page
from app.resources import service
from app.resources.schemas import ResourceCreate, ResourcePublic, ResourceUpdate

router = APIRouter(prefix="/resources", tags=["resources"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_resources(
    request: Request,
    session: SessionDep,
    reads: ReaderDep,
    principal: StaffCaller,
    page: PageDep,
    focus_area_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Title contains")] = None,
    reviewed: Annotated[
        bool | None, Query(description="Only those you have (not) reviewed")
    ] = None,
) -> Page[ResourcePublic]:
    """The peer coaching resource library, by title, with whether you have reviewed each."""
    rows, total = await fetch_page(
        reads, service.list_statement(principal, focus_area_id, q, reviewed), page
    )
    return build_page(
        Page[ResourcePublic], await service.with_tags(session, rows), total, page, request
    )


@router.post("", status_code=201, responses=error_responses(401, 403, 422))
async def create_resource(
    body: ResourceCreate, session: SessionDep, caller: Admin
) -> ResourcePublic:
    """Add a resource: a link or a text, tagged with focus areas (administrators)."""
    rid = await service.create(session, caller, body)
    return ResourcePublic.model_validate(await service.get_one(session, caller, rid))


@router.get("/{resource_id}", responses=error_responses(401, 403, 404, 422))
async def get_resource(
    resource_id: uuid.UUID, session: SessionDep, principal: StaffCaller
) -> ResourcePublic:
    """One resource."""
    return ResourcePublic.model_validate(await service.get_one(session, principal, resource_id))


@router.patch("/{resource_id}", responses=error_responses(401, 403, 404, 422))
async def update_resource(
    resource_id: uuid.UUID, body: ResourceUpdate, session: SessionDep, caller: Admin
) -> ResourcePublic:
    """Edit a resource; `focus_area_ids` replaces its tags (administrators)."""
    await service.update(session, resource_id, body)
    return ResourcePublic.model_validate(await service.get_one(session, caller, resource_id))


@router.delete("/{resource_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_resource(resource_id: uuid.UUID, session: SessionDep, _caller: Admin) -> Response:
    """Retire a resource from the library (administrators)."""
    await service.soft_delete(session, resource_id)
    return Response(status_code=204)


@router.put("/{resource_id}/review", responses=error_responses(401, 403, 404, 422))
async def mark_resource_reviewed(
    resource_id: uuid.UUID, session: SessionDep, principal: StaffCaller
) -> ResourcePublic:
    """Mark the resource as reviewed by you."""
    await service.mark_reviewed(session, principal, resource_id, True)
    return ResourcePublic.model_validate(await service.get_one(session, principal, resource_id))


@router.delete("/{resource_id}/review", responses=error_responses(401, 403, 404, 422))
async def unmark_resource_reviewed(
    resource_id: uuid.UUID, session: SessionDep, principal: StaffCaller
) -> ResourcePublic:
    """Take back your reviewed mark."""
    await service.mark_reviewed(session, principal, resource_id, False)
    return ResourcePublic.model_validate(await service.get_one(session, principal, resource_id))
