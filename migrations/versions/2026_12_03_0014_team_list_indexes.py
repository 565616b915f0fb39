"""team list indexes: a page of teams reads them in (school year desc, name, id) order, and
the plan-review queue finds plans by status

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_team_list_order", "team", [sa.text("school_year DESC"), "name", "id"], unique=False
    )
    op.create_index("ix_action_plan_status", "action_plan", ["status", "team_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_action_plan_status", table_name="action_plan")
    op.drop_index("ix_team_list_order", table_name="team")
