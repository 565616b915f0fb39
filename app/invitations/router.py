from fastapi import APIRouter

from app.auth.deps import Admin
from app.auth.schemas import Token
from app.core.deps import DatabaseDep, SessionDep, SettingsDep
from app.core.errors import error_responses
from app.core.security import create_access_token
from app.invitations import service
from app.invitations.deps import Invitee
from app.invitations.schemas import Activation, InvitationPublic

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


@router.post("/auth/activate", responses=error_responses(422, 503))
async def activate(body: Activation, db: DatabaseDep, settings: SettingsDep) -> Token:
    """Set your password with the token from your invitation and be signed in: the answer is
    the same access token a sign-in gives. The token works once; a used, revoked, expired or
    unknown one is the same 422."""
    user_id, version = await service.activate(db, body.token, body.password)
    token, lifetime = create_access_token(settings, user_id, version)
    return Token(access_token=token, expires_in=lifetime)
