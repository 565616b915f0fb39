import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel
from app.users.schemas import Password


class InvitationPublic(OutputModel):
    user_id: uuid.UUID
    invited_at: datetime
    expires_at: datetime = Field(description="The emailed link works until then, once")


class Activation(InputModel):
    token: Annotated[str, Field(min_length=20, max_length=200)] = Field(
        description="From the invitation's link (the part after `#token=`)"
    )
    password: Password


class PasswordLinkPublic(OutputModel):
    user_id: uuid.UUID
    expires_at: datetime = Field(description="The emailed reset link works until then, once")


class ResetRequest(InputModel):
    email: Annotated[str, Field(min_length=3, max_length=320)]


class NewPassword(InputModel):
    token: Annotated[str, Field(min_length=20, max_length=200)] = Field(
        description="From the reset link (the part after `#token=`)"
    )
    password: Password


class BulkInvitationCreate(InputModel):
    """Whom to invite: these people, or everyone of a school, or (neither) everyone you manage;
    always only active accounts that have not set a password yet."""

    user_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)] | None = None
    school_id: uuid.UUID | None = None


class BulkInvitationResult(OutputModel):
    invited: int = Field(description="Invitations sent (each revokes the person's earlier one)")
    expires_at: datetime
    skipped_ids: list[uuid.UUID] = Field(
        description="Of `user_ids`, those not invited: not someone you manage, deactivated, or "
        "already signing in"
    )
