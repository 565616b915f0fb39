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
