"""school years are records

A district records its school years: first and last day, which is current, and the program's
dates in each (plans due, the observation window, the window for year-end meetings). None is
made up here: a team's year binds its calendar once the district records it.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 06:46:38.189780
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "school_year",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=9), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("plan_due_on", sa.Date(), nullable=True),
        sa.Column("observations_from", sa.Date(), nullable=True),
        sa.Column("observations_until", sa.Date(), nullable=True),
        sa.Column("year_end_meetings_from", sa.Date(), nullable=True),
        sa.Column("year_end_meetings_until", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_school_year_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_year")),
        sa.UniqueConstraint("label", name=op.f("uq_school_year_label")),
    )
    with op.batch_alter_table("school_year", schema=None) as batch_op:
        batch_op.create_index(
            "uq_school_year_current",
            ["is_current"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )


def downgrade() -> None:
    with op.batch_alter_table("school_year", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_school_year_current",
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )

    op.drop_table("school_year")
