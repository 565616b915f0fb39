"""a team continues into a later school year

A team carried into the next school year is a new team that names the one it continues
(`continued_from_id`, at most one successor each).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 07:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _team_list_order_again() -> None:
    """SQLite's batch mode rebuilt the team table and its indexes from reflection, which drops
    an index column's direction: put `school_year DESC` back (migration 0014's index)."""
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_team_list_order", table_name="team")
        op.create_index(
            "ix_team_list_order", "team", [sa.text("school_year DESC"), "name", "id"], unique=False
        )


def upgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("continued_from_id", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_team_continued_from_id"), ["continued_from_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_team_continued_from_id_team"),
            "team",
            ["continued_from_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    _team_list_order_again()


def downgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_team_continued_from_id_team"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_team_continued_from_id"), type_="unique")
        batch_op.drop_column("continued_from_id")
    _team_list_order_again()
