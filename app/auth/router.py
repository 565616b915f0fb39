from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.deps import AuditNotesDep
from app.audit.models import AuditAction
from app.auth import identities, service, sso
from app.auth.deps import SsoProviders, StaffCaller
from app.auth.principal import Staff
from app.auth.schemas import (
    SignInOptions,
    SsoIdentityPublic,
    SsoProviderPublic,
    SsoTokenRequest,
    Token,
)
from app.core import rows
from app.core.deps import DatabaseDep, ReadsDep, SessionDep, SettingsDep
from app.core.errors import ProblemError, ServiceUnavailable, Unauthorized, error_responses
from app.core.pagination import Page, PageDep
from app.core.security import create_access_token
from app.users.models import User
from app.users.schemas import PasswordChange, ProfileUpdate, UserPublic
from app.users.service import to_public

router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses=error_responses(401, 403, 422, 429))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DatabaseDep,
    settings: SettingsDep,
    notes: AuditNotesDep,
) -> Token:
    """Exchange an email (`username` field) and password for a short-lived bearer token.

    The same 401 answers an unknown email and a wrong password. After repeated failures the
    account name is locked for a while: 429 with `Retry-After`. While more sign-ins arrive at
    once than the server checks passwords for, the answer is 503 with `Retry-After`. Where the
    district requires single sign-on, 403 (but for its break-glass district administrators)."""
    try:
        if len(form.username) > 320 or len(form.password) > 128:
            raise Unauthorized(service.BAD_LOGIN)
        user_id, version = await service.authenticate(db, settings, form.username, form.password)
    except ProblemError as refused:
        if not isinstance(refused, ServiceUnavailable):  # busy: no credential was checked
            await notes.note(
                AuditAction.sign_in_failed,
                method="password",
                login=audit.login_name(form.username),
                reason=_REASONS.get(refused.status, refused.slug),
            )
        raise
    await notes.note(AuditAction.sign_in, actor_id=user_id, method="password")
    token, lifetime = create_access_token(settings, user_id, version)
    return Token(access_token=token, expires_in=lifetime)


async def _own_account(session: AsyncSession, caller: Staff) -> User:
    """The caller's account in this request's session, to change it."""
    account = await session.get(User, caller.id, with_for_update=True)
    if account is None:  # removed since the token check
        raise Unauthorized()
    return account


@router.get("/me", responses=error_responses(401, 403))
async def read_me(caller: StaffCaller) -> UserPublic:
    """The signed-in staff member, with their schools and role."""
    return to_public(caller.staff, sorted(caller.school_ids, key=str))


@router.patch("/me", responses=error_responses(401, 403, 422))
async def update_me(body: ProfileUpdate, caller: StaffCaller, session: SessionDep) -> UserPublic:
    """Correct your own given or family name."""
    account = await _own_account(session, caller.staff)
    changes = rows.patch(account, body)
    for key, value in changes.items():
        setattr(account, key, value)
    if changes:
        rows.changed(account)
        await session.flush()
    return to_public(account, sorted(caller.school_ids, key=str))


@router.get("/me/sso-identities", responses=error_responses(401, 403, 422))
async def list_my_sso_identities(
    caller: StaffCaller, reads: ReadsDep, page: PageDep
) -> Page[SsoIdentityPublic]:
    """The provider accounts you sign in with, each bound at your first single sign-on there
    (an administrator who manages you removes one the provider replaced)."""
    query, values = identities.bindings_query(caller.staff.id)
    return await reads.page(SsoIdentityPublic, query, page, values)


@router.post("/me/password", responses=error_responses(401, 403, 409, 422, 429))
async def change_password(
    body: PasswordChange,
    caller: StaffCaller,
    db: DatabaseDep,
    settings: SettingsDep,
    notes: AuditNotesDep,
) -> Token:
    """Change your password. Every other session ends; the answer is a fresh token. Wrong
    current passwords count like failed sign-ins: after repeated ones, 429 for a while."""
    version = await service.change_password(
        db, settings, caller.staff.id, body.current_password, body.new_password
    )
    await notes.note(AuditAction.password_changed, caller, subject_user_id=caller.staff.id)
    token, lifetime = create_access_token(settings, caller.staff.id, version)
    return Token(access_token=token, expires_in=lifetime)


_NO_STORE = {"Cache-Control": "no-store"}
# Why a password sign-in failed, in the audit trail's words.
_REASONS = {401: "bad_credentials", 403: "passwords_off", 429: "locked"}
_REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "Sends the browser on (`Location`)"}
}


@router.get("/sso/providers")
async def sign_in_options(settings: SettingsDep) -> SignInOptions:
    """The district's single sign-on providers, and whether password sign-in is offered."""
    return SignInOptions(
        providers=[
            SsoProviderPublic(
                name=name,
                display_name=provider.display_name,
                authorize_url=f"{sso.API_PREFIX}/sso/{name}/authorize",
            )
            for name, provider in sorted(settings.oidc_providers.items())
        ],
        password_sign_in=not settings.sso_required,
        token_url=f"{sso.API_PREFIX}/sso/token",
    )


@router.get(
    "/sso/{provider}/authorize",
    status_code=302,
    response_class=RedirectResponse,
    responses={**_REDIRECT, **error_responses(400, 404, 422, 503)},
)
async def sso_authorize(
    provider: str,
    redirect_uri: Annotated[str, Query(max_length=2000)],
    code_challenge: Annotated[str, Query(max_length=128)],
    db: DatabaseDep,
    providers: SsoProviders,
    code_challenge_method: Annotated[str, Query(max_length=10)] = "S256",
    state: Annotated[str | None, Query(max_length=1000)] = None,
) -> RedirectResponse:
    """Begin a single sign-on: the browser goes to the provider, then back to `redirect_uri`
    (one the district registered) with a one-time `code` and your `state`. Exchange the code
    with your PKCE verifier at `POST /sso/token`. 400 for an unregistered redirect URI
    or a missing S256 challenge (nothing redirects then)."""
    url = await sso.start(
        db,
        providers,
        provider,
        redirect_uri=redirect_uri,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
    )
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


@router.get(
    "/sso/{provider}/callback",
    status_code=302,
    response_class=RedirectResponse,
    responses={**_REDIRECT, **error_responses(400, 401, 403, 404, 422, 503)},
)
async def sso_callback(
    provider: str,
    db: DatabaseDep,
    providers: SsoProviders,
    notes: AuditNotesDep,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=2000)] = None,
) -> RedirectResponse:
    """The provider sends the browser back here (register this address with it). A valid
    answer for an active account redirects to the front end with a one-time code; anything
    else is a problem document saying what was refused (a used or unknown state, a refused
    code, an ID token for another audience or expired, an unverified email, no such or a
    deactivated account)."""
    try:
        url = await sso.finish(
            db, providers, provider, sso.ProviderAnswer(code, state, error, error_description)
        )
    except ProblemError as refused:
        if refused.status != 404:  # a provider we do not have: nobody tried to sign in
            reason = refused.errors[0].type if refused.errors else refused.slug
            await notes.note(
                AuditAction.sign_in_failed, method=f"sso:{provider[:40]}", reason=reason
            )
        raise
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


@router.post("/sso/token", responses=error_responses(400, 422, 503))
async def sso_token(
    form: Annotated[SsoTokenRequest, Form()],
    db: DatabaseDep,
    settings: SettingsDep,
    notes: AuditNotesDep,
) -> Token:
    """Exchange the one-time code from a single sign-on (form fields `grant_type=
    authorization_code`, `code`, `redirect_uri`, `code_verifier`) for the access token a
    password sign-in gives. A code works once, within a minute, with its verifier."""
    user_id, version, provider = await sso.exchange(
        db,
        grant_type=form.grant_type,
        code=form.code,
        redirect_uri=form.redirect_uri,
        code_verifier=form.code_verifier,
    )
    await notes.note(AuditAction.sign_in, actor_id=user_id, method=f"sso:{provider}")
    token, lifetime = create_access_token(settings, user_id, version)
    return Token(access_token=token, expires_in=lifetime)
