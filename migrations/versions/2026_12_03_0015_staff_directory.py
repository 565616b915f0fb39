"""staff directory: each school's members in name order, kept by triggers, so a page of
colleagues reads 50 rows of one index instead of sorting a school's members

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "school_id, user_id, family_name, given_name, is_active"
FROM_ACCOUNT = "SELECT {school}, {user}, family_name, given_name, is_active FROM user_account"

SQLITE = [
    f"""CREATE TRIGGER staff_directory_membership_insert AFTER INSERT ON school_membership
    BEGIN
        INSERT INTO staff_directory ({COLUMNS})
        {FROM_ACCOUNT.format(school="NEW.school_id", user="NEW.user_id")} WHERE id = NEW.user_id;
    END""",
    """CREATE TRIGGER staff_directory_membership_delete AFTER DELETE ON school_membership
    BEGIN
        DELETE FROM staff_directory WHERE school_id = OLD.school_id AND user_id = OLD.user_id;
    END""",
    f"""CREATE TRIGGER staff_directory_membership_update
    AFTER UPDATE OF school_id, user_id ON school_membership
    BEGIN
        DELETE FROM staff_directory WHERE school_id = OLD.school_id AND user_id = OLD.user_id;
        INSERT INTO staff_directory ({COLUMNS})
        {FROM_ACCOUNT.format(school="NEW.school_id", user="NEW.user_id")} WHERE id = NEW.user_id;
    END""",
    """CREATE TRIGGER staff_directory_account_update
    AFTER UPDATE OF family_name, given_name, is_active ON user_account
    BEGIN
        UPDATE staff_directory
           SET family_name = NEW.family_name, given_name = NEW.given_name,
               is_active = NEW.is_active
         WHERE user_id = NEW.id;
    END""",
]

POSTGRESQL = [
    f"""CREATE FUNCTION peercoach_directory_membership() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            DELETE FROM staff_directory
             WHERE school_id = OLD.school_id AND user_id = OLD.user_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO staff_directory ({COLUMNS})
            {FROM_ACCOUNT.format(school="NEW.school_id", user="NEW.user_id")}
             WHERE id = NEW.user_id;
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER staff_directory_membership
    AFTER INSERT OR UPDATE OR DELETE ON school_membership
    FOR EACH ROW EXECUTE FUNCTION peercoach_directory_membership()""",
    """CREATE FUNCTION peercoach_directory_account() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE staff_directory
           SET family_name = NEW.family_name, given_name = NEW.given_name,
               is_active = NEW.is_active
         WHERE user_id = NEW.id;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER staff_directory_account
    AFTER UPDATE OF family_name, given_name, is_active ON user_account
    FOR EACH ROW WHEN (
        OLD.family_name IS DISTINCT FROM NEW.family_name
        OR OLD.given_name IS DISTINCT FROM NEW.given_name
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
    ) EXECUTE FUNCTION peercoach_directory_account()""",
]


def upgrade() -> None:
    op.create_table(
        "staff_directory",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_staff_directory_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_staff_directory_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", "user_id", name=op.f("pk_staff_directory")),
    )
    op.create_index(
        "ix_staff_directory_name_order",
        "staff_directory",
        ["school_id", "is_active", "family_name", "given_name", "user_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_staff_directory_user_id"), "staff_directory", ["user_id"], unique=False
    )
    op.execute(
        f"INSERT INTO staff_directory ({COLUMNS}) SELECT m.school_id, m.user_id, u.family_name, "
        "u.given_name, u.is_active FROM school_membership m JOIN user_account u ON u.id = m.user_id"
    )
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (
            "staff_directory_account_update",
            "staff_directory_membership_update",
            "staff_directory_membership_delete",
            "staff_directory_membership_insert",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS staff_directory_account ON user_account")
        op.execute("DROP TRIGGER IF EXISTS staff_directory_membership ON school_membership")
        op.execute("DROP FUNCTION IF EXISTS peercoach_directory_account()")
        op.execute("DROP FUNCTION IF EXISTS peercoach_directory_membership()")
    op.drop_index(op.f("ix_staff_directory_user_id"), table_name="staff_directory")
    op.drop_index("ix_staff_directory_name_order", table_name="staff_directory")
    op.drop_table("staff_directory")
