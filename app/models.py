"""Every table model, imported once so SQLModel.metadata is complete (Alembic and tests use it)."""

from app.audit.models import AuditEvent
from app.auth.models import LoginThrottle, SsoIdentity, SsoSignIn
from app.calendar_feeds.models import CalendarFeed
from app.core.kept import ContentRevision
from app.coverage.models import CoverageRequest
from app.events.models import Event, EventParticipant
from app.focus_areas.models import FocusArea
from app.growth.models import GrowthRecord
from app.integration_keys.models import IntegrationKey
from app.invitations.models import AccountToken
from app.learning_forms.models import LearningForm
from app.mail.models import OutboxMessage
from app.notifications.models import Notification, NotificationSetting, ReminderSent
from app.plans.models import ActionPlan, PlanTransition
from app.program_rules.models import ProgramRules
from app.read_log.models import ConfidentialRead
from app.records.models import ConferenceRecord, ObservationRecord
from app.reflections.models import Reflection, ReflectionComment
from app.resources.models import Resource, ResourceReview, ResourceTag
from app.rosters.models import RosterImport, RosterImportRow
from app.school_years.models import SchoolYear
from app.schools.models import School
from app.support.models import SupportRequest
from app.teams.models import HistoryConsent, SchoolTeam, Team, TeamInvitation, TeamMember
from app.users.models import SchoolMembership, StaffDirectoryEntry, User

__all__ = [
    "AccountToken",
    "ActionPlan",
    "AuditEvent",
    "CalendarFeed",
    "ConferenceRecord",
    "ConfidentialRead",
    "ContentRevision",
    "CoverageRequest",
    "Event",
    "EventParticipant",
    "FocusArea",
    "GrowthRecord",
    "HistoryConsent",
    "IntegrationKey",
    "LearningForm",
    "LoginThrottle",
    "Notification",
    "NotificationSetting",
    "ObservationRecord",
    "OutboxMessage",
    "PlanTransition",
    "ProgramRules",
    "Reflection",
    "ReflectionComment",
    "ReminderSent",
    "Resource",
    "ResourceReview",
    "ResourceTag",
    "RosterImport",
    "RosterImportRow",
    "School",
    "SchoolMembership",
    "SchoolTeam",
    "SchoolYear",
    "SsoIdentity",
    "SsoSignIn",
    "StaffDirectoryEntry",
    "SupportRequest",
    "Team",
    "TeamInvitation",
    "TeamMember",
    "User",
]
