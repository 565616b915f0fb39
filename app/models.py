"""Every table model, imported once so SQLModel.metadata is complete (Alembic and tests use it)."""

from app.auth.models import LoginThrottle
from app.integration_keys.models import IntegrationKey
from app.schools.models import School
from app.users.models import SchoolMembership, User

__all__ = ["IntegrationKey", "LoginThrottle", "School", "SchoolMembership", "User"]
