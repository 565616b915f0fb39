"""Keys a district administrator may revoke, or 404 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import DistrictAdmin
from app.core.access import load_visible
from app.core.deps import SessionDep
from app.integration_keys import policies
from app.integration_keys.models import IntegrationKey


async def get_manageable_key(
    key_id: uuid.UUID, session: SessionDep, caller: DistrictAdmin
) -> IntegrationKey:
    return await load_visible(
        session,
        IntegrationKey,
        key_id,
        policies.manageable(caller),
        missing="No such integration key",
        lock=True,
    )


ManageableKey = Annotated[IntegrationKey, Depends(get_manageable_key)]
