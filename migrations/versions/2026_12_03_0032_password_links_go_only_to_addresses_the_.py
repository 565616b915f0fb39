"""password links go only to addresses the person has confirmed

An account whose email someone else changed gets no password link (reset) until the person sets
their password themselves, so changing a teacher's address never hands over their account.
Accounts as they are now count as confirmed.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 08:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE on both engines (a batch rebuild on SQLite would drop the table's
    # staff-directory trigger); existing accounts take the default.
    op.add_column(
        "user_account",
        sa.Column("email_confirmed", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_column("user_account", "email_confirmed")  # in place (SQLite 3.35+): no rebuild
