"""The program's rules: read by every part of the cycle that applies them, edited by district
administrators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import rows
from app.core.access import public_columns
from app.core.reads import Bound
from app.program_rules.models import RULES_ID, ProgramRules
from app.program_rules.schemas import ProgramRulesPublic, ProgramRulesUpdate

_RULES = select(*public_columns(ProgramRules, ProgramRulesPublic)).where(
    col(ProgramRules.id) == RULES_ID
)


def rules_statement() -> Bound:
    """The rules as the API shows them (a template: every caller reads the same row)."""
    return Bound(_RULES, {})


def rule_column(name: str) -> ScalarSelect[Any]:
    """One rule as a scalar subquery, for a statement that applies it (progress's facts)."""
    column = getattr(ProgramRules, name)
    return select(col(column)).where(col(ProgramRules.id) == RULES_ID).scalar_subquery()


async def current(session: AsyncSession, *, lock: bool = False) -> ProgramRules:
    """The rules inside a write session (locked while a change to them is made)."""
    stmt = select(ProgramRules).where(col(ProgramRules.id) == RULES_ID)
    rules = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one()
    return rules


async def update(
    session: AsyncSession, rules: ProgramRules, data: ProgramRulesUpdate
) -> ProgramRules:
    for key, value in rows.patch(rules, data).items():
        setattr(rules, key, value)
    rows.changed(rules)
    session.add(rules)
    await session.flush()
    return rules
