"""The caller's own notification, or 404 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

import app.core.paths  # noqa: F401  (the `:id` convertor)
from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.core.access import load_visible
from app.core.deps import SessionDep
from app.notifications import policies
from app.notifications.models import Notification


async def get_own_notification(
    notification_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> Notification:
    return await load_visible(
        session,
        Notification,
        notification_id,
        policies.own(caller),
        missing="No such notification of yours",
        lock=True,
        params=caller_values(caller),
    )


OwnNotification = Annotated[Notification, Depends(get_own_notification)]
