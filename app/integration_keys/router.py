from fastapi import APIRouter, Request, Response

from app.auth.deps import DistrictAdmin
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.integration_keys import service
from app.integration_keys.deps import ManageableKey
from app.integration_keys.schemas import (
    IntegrationKeyCreate,
    IntegrationKeyCreated,
    IntegrationKeyPublic,
)

router = APIRouter(prefix="/integration-keys", tags=["integration keys"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_integration_keys(
    request: Request,
    reads: ReadsDep,
    _caller: DistrictAdmin,
    page: PageDep,
    include_revoked: bool = False,
) -> Page[IntegrationKeyPublic]:
    """Integration keys for district systems, newest first. Secrets are never shown again."""
    return await reads.page(IntegrationKeyPublic, service.list_query(include_revoked), page)


@router.post("", status_code=201, responses=error_responses(401, 403, 422))
async def create_integration_key(
    body: IntegrationKeyCreate, session: SessionDep, caller: DistrictAdmin
) -> IntegrationKeyCreated:
    """Create a named key with scopes (`read`: read schools and staff district-wide;
    `roster:write`: import rosters). The `key` in the answer is shown only this once; send it
    as `Authorization: Bearer <key>`."""
    return await service.create(session, caller, body)


@router.delete("/{key_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def revoke_integration_key(
    key: ManageableKey, session: SessionDep, caller: DistrictAdmin
) -> Response:
    """Revoke a key: it stops working at once. The record is kept for the audit trail."""
    await service.revoke(session, caller, key)
    return Response(status_code=204)
