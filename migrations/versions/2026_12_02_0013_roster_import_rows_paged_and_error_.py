"""roster import rows paged and error counts: an import's log stays small whatever the file

Each import's per-person outcome goes to `roster_import_row`, read a page at a time
(`GET /roster-imports/{id}/rows`), instead of being sent whole. The log keeps the first errors
and `error_count`; logs already stored with more errors are cut to the first 100.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:51:17
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = 100


def upgrade() -> None:
    op.create_table(
        "roster_import_row",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("file", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("sourced_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["roster_import.id"],
            name=op.f("fk_roster_import_row_import_id_roster_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "position", name=op.f("pk_roster_import_row")),
    )
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("error_count", sa.Integer(), server_default="0", nullable=False)
        )
    bind = op.get_bind()
    logs = sa.table(
        "roster_import", sa.column("id", sa.Uuid()), sa.column("errors", sa.JSON()),
        sa.column("error_count", sa.Integer()),
    )  # fmt: skip
    for import_id, errors in bind.execute(sa.select(logs.c.id, logs.c.errors)).all():
        errors = json.loads(errors) if isinstance(errors, str) else errors or []
        bind.execute(
            logs.update()
            .where(logs.c.id == import_id)
            .values(errors=errors[:KEPT], error_count=len(errors))
        )


def downgrade() -> None:
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.drop_column("error_count")
    op.drop_table("roster_import_row")
