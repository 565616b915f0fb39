from fastapi import APIRouter, Response

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, etag, require_current
from app.program_rules import service
from app.program_rules.deps import EditableRules
from app.program_rules.schemas import ProgramRulesPublic, ProgramRulesUpdate

router = APIRouter(prefix="/program-rules", tags=["program rules"])


@router.get("", responses=error_responses(401, 403))
async def get_program_rules(
    reads: ReadsDep, _caller: StaffCaller, response: Response
) -> ProgramRulesPublic:
    """The program's rules, as progress, the year-end report and the calendar apply them."""
    rules = await reads.one(ProgramRulesPublic, service.rules_statement())
    assert rules is not None  # the migration writes the row; nothing deletes it
    response.headers["ETag"] = etag("rules", rules.version)
    return rules


@router.patch("", responses=error_responses(401, 403, 412, 422, 428))
async def update_program_rules(
    rules: EditableRules,
    body: ProgramRulesUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProgramRulesPublic:
    """Change the program's rules (district administrators; send the `ETag` as `If-Match`)."""
    require_current(if_match, "rules", rules.version)
    rules = await service.update(session, rules, body)
    response.headers["ETag"] = etag("rules", rules.version)
    return ProgramRulesPublic.model_validate(rules)
