import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from app.core.schemas import InputModel, NotNull, OutputModel, ShortText, Text
from app.focus_areas.schemas import FocusAreaRef
from app.plans.models import PlanStatus
from app.teams.models import InvitationStatus

_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


def _school_year(value: str) -> str:
    m = _YEAR.match(value)
    if not m or int(m.group(2)) != int(m.group(1)) + 1 or not 2000 <= int(m.group(1)) <= 2100:
        raise ValueError("must look like 2026-2027 (two consecutive years)")
    return value


SchoolYear = Annotated[str, Field(examples=["2026-2027"]), AfterValidator(_school_year)]
LongText = Annotated[str, Text(10_000)]


class TeamCreate(InputModel):
    name: ShortText
    school_year: SchoolYear | None = Field(
        default=None,
        description="Left out: the current school year (GET /school-years; 422 if the district "
        "has not marked one current)",
    )
    focus_area_id: uuid.UUID | None = None
    focus_area_other: Annotated[str, Text(500)] | None = Field(
        default=None,
        description="A focus area in the team's own words, if none in the catalog fits",
    )
    learning_target: LongText | None = None
    invitee_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=20,
        description="Colleagues to invite. The teacher forming the team is its first member; "
        "each invitee joins when they accept (`POST /team-invitations/{id}/accept`).",
    )


class TeamUpdate(InputModel):
    name: NotNull[ShortText] = None
    school_year: NotNull[SchoolYear] = None
    focus_area_id: uuid.UUID | None = None
    focus_area_other: Annotated[str, Text(500)] | None = None
    learning_target: LongText | None = None


class TeamContinue(InputModel):
    school_year: SchoolYear | None = Field(
        default=None,
        description="A later school year (left out: the current one, GET /school-years)",
    )
    name: ShortText | None = Field(default=None, description="Left out: the team's name")


class TeamInvitationCreate(InputModel):
    user_id: uuid.UUID = Field(description="A teacher of your schools")


class MemberRef(OutputModel):
    id: uuid.UUID
    given_name: str
    family_name: str


class TeamMemberPublic(MemberRef):
    joined_at: datetime
    sees_earlier_records: bool = Field(
        description="Reads the team's confidential records written before they joined: "
        "founders do; a later member once the members before them consent"
    )


class TeamRef(OutputModel):
    id: uuid.UUID
    name: str
    school_year: str


class TeamInvitationPublic(OutputModel):
    id: uuid.UUID
    team: TeamRef
    invitee: MemberRef
    invited_by: MemberRef | None
    status: InvitationStatus
    created_at: datetime


class TeamPublic(OutputModel):
    id: uuid.UUID
    name: str
    school_year: str
    focus_area: FocusAreaRef | None
    focus_area_other: str | None
    learning_target: str | None
    members: list[TeamMemberPublic]
    invited: list[MemberRef] = Field(description="Invited colleagues who have not answered yet")
    plan_status: PlanStatus | None
    continued_from_id: uuid.UUID | None = Field(
        description="The team of an earlier school year this one continues"
    )
    continued_as_id: uuid.UUID | None = Field(
        description="The team that continues this one into a later school year"
    )
    created_by_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(description="Set when the team was deleted (restorable)")
