from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime


class LoginThrottle(SQLModel, table=True):
    """Failed logins per account name, kept in the database so every worker and host agrees."""

    __tablename__ = "login_throttle"

    # The lower-cased login name, whether or not such an account exists (so the throttle
    # does not reveal which accounts exist).
    login: str = Field(primary_key=True, max_length=320)
    failures: int = Field(default=0)
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
