import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field

from app.auth.password_policy import MAX_LENGTH, MIN_LENGTH, check_password
from app.core.schemas import InputModel, Name, NotNull, OutputModel, Text
from app.users.models import Role


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, Field(max_length=320), AfterValidator(_lower)]
Password = Annotated[
    str,
    Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description=f"{MIN_LENGTH} to {MAX_LENGTH} characters, not one of the commonest passwords",
    ),
    AfterValidator(check_password),
]
SchoolIds = Annotated[list[uuid.UUID], Field(max_length=50)]


class UserCreate(InputModel):
    email: Email
    given_name: Name
    family_name: Name
    role: Role
    school_ids: SchoolIds = Field(default_factory=list)
    sourced_id: Annotated[str, Text(255, 1)] | None = None
    password: Password | None = Field(
        default=None, description="Initial password; without one the account cannot log in yet"
    )


class UserUpdate(InputModel):
    email: NotNull[Email] = None
    given_name: NotNull[Name] = None
    family_name: NotNull[Name] = None
    role: NotNull[Role] = None
    school_ids: NotNull[SchoolIds] = Field(default=None, description="Replaces the memberships")
    sourced_id: Annotated[str, Text(255, 1)] | None = None
    is_active: NotNull[bool] = Field(
        default=None, description="false deactivates: the account's tokens stop working at once"
    )


class ProfileUpdate(InputModel):
    given_name: NotNull[Name] = None
    family_name: NotNull[Name] = None


class PasswordChange(InputModel):
    current_password: Annotated[str, Field(max_length=128)]
    new_password: Password


class UserPublic(OutputModel):
    id: uuid.UUID
    email: str
    given_name: str
    family_name: str
    role: Role
    school_ids: list[uuid.UUID]
    sourced_id: str | None
    is_active: bool
    invited_at: datetime | None = Field(description="When the latest invitation went out")
    activated_at: datetime | None = Field(
        description="When the person set their password (null: not yet: invite them)"
    )
    created_at: datetime
    updated_at: datetime


class ColleaguePublic(OutputModel):
    """What a teacher may know about a colleague: enough to form a coaching team."""

    id: uuid.UUID
    given_name: str
    family_name: str
