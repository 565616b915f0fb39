from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.notifications import service
from app.notifications.deps import OwnNotification
from app.notifications.schemas import (
    KindSetting,
    NotificationPublic,
    NotificationSettings,
    NotificationSettingsUpdate,
    ReadAll,
    UnreadCount,
)

router = APIRouter(tags=["notifications"])


@router.get("/notifications", responses=error_responses(401, 403, 422))
async def list_notifications(
    caller: StaffCaller,
    reads: ReadsDep,
    page: PageDep,
    unread: Annotated[bool, Query(description="Only those not read yet")] = False,
) -> Page[NotificationPublic]:
    """What you were told, newest first: a plan submitted, returned or approved, an event
    scheduled, moved or cancelled, coverage asked for, arranged or declined, a comment on your
    reflection, a team invitation. Each is a line and a link; never a note's content."""
    return await reads.page(
        NotificationPublic, service.list_query(unread), page, caller_values(caller)
    )


@router.get("/notifications/unread-count", responses=error_responses(401, 403, 422))
async def count_unread_notifications(caller: StaffCaller, reads: ReadsDep) -> UnreadCount:
    """How many you have not read (for a badge)."""
    return UnreadCount(unread=await reads.value(service.unread_statement(caller)) or 0)


@router.post("/notifications/{notification_id}/read", responses=error_responses(401, 403, 404, 422))
async def mark_notification_read(
    notification: OwnNotification, session: SessionDep
) -> NotificationPublic:
    """Mark one of yours read (again: no change)."""
    return NotificationPublic.model_validate(await service.mark_read(session, notification))


@router.post("/notifications/read-all", responses=error_responses(401, 403, 422))
async def mark_all_notifications_read(caller: StaffCaller, session: SessionDep) -> ReadAll:
    """Mark all of yours read."""
    return ReadAll(marked=await service.mark_all_read(session, caller))


@router.get("/me/notification-settings", responses=error_responses(401, 403, 422))
async def read_notification_settings(caller: StaffCaller, reads: ReadsDep) -> NotificationSettings:
    """Which kinds of notification are emailed to you (all are shown in the app)."""
    chosen = await reads.all(KindSetting, service.settings_statement(caller.staff.id))
    return service.all_kinds(chosen)


@router.patch("/me/notification-settings", responses=error_responses(401, 403, 422))
async def update_notification_settings(
    body: NotificationSettingsUpdate, caller: StaffCaller, session: SessionDep
) -> NotificationSettings:
    """Choose per kind whether it is emailed, e.g. `{"email": {"event_moved": false}}`."""
    return await service.set_email(session, caller.staff.id, body.email)
