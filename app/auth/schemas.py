from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class SsoProviderPublic(BaseModel):
    name: str
    display_name: str
    authorize_url: str = Field(
        description="Send the browser here with `redirect_uri`, `state`, `code_challenge` and "
        "`code_challenge_method=S256`; it comes back to `redirect_uri` with `code` and `state`"
    )


class SignInOptions(BaseModel):
    """How staff sign in here: the front end shows these buttons, and the password form only
    when `password_sign_in` is true."""

    providers: list[SsoProviderPublic]
    password_sign_in: bool = Field(
        description="False when the district requires single sign-on (break-glass district "
        "administrators still sign in with a password)"
    )
    token_url: str = Field(description="Where the one-time code is exchanged for a token")


class SsoTokenRequest(BaseModel):
    """The one-time code from the sign-in's redirect, exchanged as in OAuth 2.0 (RFC 6749
    section 4.1.3, with the PKCE verifier of RFC 7636)."""

    model_config = {"extra": "ignore"}

    grant_type: str = Field(max_length=40)
    code: str = Field(max_length=200)
    redirect_uri: str = Field(max_length=2000)
    code_verifier: str = Field(max_length=128)
    client_id: str | None = Field(default=None, max_length=200, description="Ignored")


class SsoIdentityPublic(BaseModel):
    """A provider account a staff account signs in with, bound at its first single sign-on."""

    provider: str = Field(description="The provider's name, as `GET /sso/providers` lists it")
    subject: str = Field(description="The provider's id of the account (the ID token's `sub`)")
    bound_at: datetime
