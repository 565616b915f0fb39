"""The audit trail: security-relevant actions, appended and never changed (README, "The audit
trail"). It says who did what to whom, when and from where; never the content of a record."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class AuditAction(StrEnum):
    # Signing in
    sign_in = "sign_in"
    sign_in_failed = "sign_in_failed"
    password_changed = "password_changed"
    # Getting people in
    invitation_sent = "invitation_sent"
    account_activated = "account_activated"
    password_reset_sent = "password_reset_sent"
    password_reset_completed = "password_reset_completed"
    # Accounts
    user_created = "user_created"
    role_changed = "role_changed"
    schools_changed = "schools_changed"
    email_changed = "email_changed"
    deactivated = "deactivated"
    reactivated = "reactivated"
    sso_identity_unbound = "sso_identity_unbound"
    # District systems
    integration_key_created = "integration_key_created"
    integration_key_revoked = "integration_key_revoked"
    roster_imported = "roster_imported"
    # Administrators' decisions about a team's plan
    plan_approved = "plan_approved"
    plan_returned = "plan_returned"
    plan_completed = "plan_completed"
    # A read of a team's confidential content (what the team's read log holds)
    confidential_read = "confidential_read"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        one_of("action", AuditAction),
        # The trail newest first, and per actor, person or team.
        Index("ix_audit_event_at", text("at DESC"), text("id DESC")),
        Index("ix_audit_event_actor", "actor_id", text("at DESC")),
        Index("ix_audit_event_subject", "subject_user_id", text("at DESC")),
        Index("ix_audit_event_team", "team_id", text("at DESC")),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: AuditAction = Field(sa_type=String(40))
    # Who: a staff account, or an integration key; neither for a failed sign-in's stranger. No
    # foreign keys: the trail outlives what it names and never blocks a change.
    actor_id: uuid.UUID | None = None
    actor_key_id: uuid.UUID | None = None
    # Whom or what: the person an action was about, the team, and the object (a record, a
    # key, an import, a plan).
    subject_user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    object_id: uuid.UUID | None = None
    # A few facts about the action (a role's old and new value, a sign-in's method): never
    # content. See app/audit/service.py.
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # From where: the caller's address and the request's id (X-Request-ID).
    client: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
