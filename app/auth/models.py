import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id


class LoginThrottle(SQLModel, table=True):
    """Failed logins per account name, kept in the database so every worker and host agrees."""

    __tablename__ = "login_throttle"

    # The lower-cased login name, whether or not such an account exists (so the throttle
    # does not reveal which accounts exist).
    login: str = Field(primary_key=True, max_length=320)
    failures: int = Field(default=0)
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SsoSignIn(SQLModel, table=True):
    """One single sign-on under way (app/sso.py), from the redirect to the provider until
    the front end exchanges its one-time code for an access token. In the database so that any
    worker or host finishes what another began; minutes long, then deleted."""

    __tablename__ = "sso_sign_in"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider: str = Field(max_length=40)
    # SHA-256 of the state sent to the provider; cleared when the provider's answer arrives, so
    # a replayed answer finds nothing.
    state_hash: str | None = Field(default=None, max_length=64, unique=True)
    # The provider's side: the ID token's nonce and our PKCE verifier.
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    # The front end's side: where to return, its state, and its PKCE challenge (S256).
    redirect_uri: str = Field(max_length=2000)
    client_state: str | None = Field(default=None, max_length=1000)
    code_challenge: str = Field(max_length=128)
    # Once the provider's answer is accepted: SHA-256 of the one-time code handed to the front
    # end, and whom it signs in.
    code_hash: str | None = Field(default=None, max_length=64, unique=True)
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="CASCADE"
    )
    token_version: int | None = None
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class SsoIdentity(SQLModel, table=True):
    """The provider's account a staff account signed in with: bound at the first single
    sign-on, then matched before any email, so pointing an account's email at another address
    never hands it to that address's owner."""

    __tablename__ = "sso_identity"

    provider: str = Field(primary_key=True, max_length=40)
    subject: str = Field(primary_key=True, max_length=255, description="The ID token's `sub`")
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    bound_at: datetime = Field(sa_type=UTCDateTime)
