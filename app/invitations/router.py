from fastapi import APIRouter, Response

from app.audit.deps import AuditNotesDep
from app.auth.deps import Admin
from app.auth.schemas import Token
from app.core.deps import DatabaseDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, error_responses
from app.core.security import create_access_token
from app.invitations import policies, service
from app.invitations.deps import Invitee
from app.invitations.models import TokenPurpose
from app.invitations.schemas import (
    Activation,
    BulkInvitationCreate,
    BulkInvitationResult,
    InvitationPublic,
    NewPassword,
    PasswordLinkPublic,
    ResetRequest,
)

router = APIRouter(tags=["auth"])


@router.post(
    "/users/{user_id}/invitation",
    status_code=202,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def invite_user(
    found: Invitee, session: SessionDep, principal: Admin, settings: SettingsDep
) -> InvitationPublic:
    """Invite a person to set their password (administrators who manage them): an email with
    a single-use link valid for INVITATION_DAYS goes out through the outbox (`peercoach
    worker`). Inviting again revokes the earlier link; a person who has set their password
    already is a 409 (a password reset is for them)."""
    return await service.invite(session, principal, found.user, settings)


@router.post("/invitations", status_code=202, responses=error_responses(401, 403, 409, 422))
async def invite_many(
    body: BulkInvitationCreate, session: SessionDep, principal: Admin, settings: SettingsDep
) -> BulkInvitationResult:
    """Invite many at once (administrators): `user_ids`, everyone of a `school_id`, or, with
    neither, everyone you manage who has not set a password yet (after a roster import, say).
    Only active accounts not signing in yet are invited, each revoking their earlier link; the
    emails go out through the outbox. All or nothing."""
    if not policies.can_invite_many(principal):
        raise Forbidden("Staff administrators invite the staff they manage")
    return await service.invite_many(session, principal, body, settings)


@router.post("/auth/activate", responses=error_responses(403, 422, 503))
async def activate(
    body: Activation, db: DatabaseDep, settings: SettingsDep, notes: AuditNotesDep
) -> Token:
    """Set your password with the token from your invitation and be signed in: the answer is
    the same access token a sign-in gives. The token works once; a used, revoked, expired or
    unknown one is the same 422."""
    user_id, version = await service.redeem(
        db, settings, TokenPurpose.invitation, body.token, body.password, notes.origin
    )
    token, lifetime = create_access_token(settings, user_id, version)
    return Token(access_token=token, expires_in=lifetime)


@router.post(
    "/auth/password-reset",
    status_code=202,
    response_class=Response,
    responses={**error_responses(422, 429, 503), 202: {"description": "Asked"}},
)
async def request_password_reset(
    body: ResetRequest, db: DatabaseDep, settings: SettingsDep, notes: AuditNotesDep
) -> Response:
    """Forgot your password? The answer is the same 202 whatever the address: if it is an
    active account's, a link to set a new password (valid PASSWORD_RESET_MINUTES, once) is
    emailed. Asking is throttled per address like sign-ins (429 with `Retry-After`)."""
    await service.request_reset(db, settings, body.email, notes.origin)
    return Response(status_code=202)


@router.post("/auth/password-reset/confirm", responses=error_responses(403, 422, 503))
async def confirm_password_reset(
    body: NewPassword, db: DatabaseDep, settings: SettingsDep, notes: AuditNotesDep
) -> Token:
    """Set a new password with the token from the reset link: every other session ends, and
    the answer signs you in. A used, revoked, expired or unknown token is the same 422."""
    user_id, version = await service.redeem(
        db, settings, TokenPurpose.password_reset, body.token, body.password, notes.origin
    )
    token, lifetime = create_access_token(settings, user_id, version)
    return Token(access_token=token, expires_in=lifetime)


@router.post(
    "/users/{user_id}/password-reset",
    status_code=202,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def reset_user_password(
    found: Invitee, session: SessionDep, principal: Admin, settings: SettingsDep
) -> PasswordLinkPublic:
    """Send a person a link to set a new password (administrators who manage them). The
    administrator never sees or sets the password; the person's sessions end when they use it."""
    return await service.reset_for(session, principal, found.user, settings)
