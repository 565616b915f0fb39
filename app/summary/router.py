from fastapi import APIRouter, Response

from app.core.errors import error_responses
from app.summary.deps import SummaryDocumentView, SummaryView
from app.summary.schemas import TeamSummary

router = APIRouter(tags=["summary"])


@router.get("/teams/{team_id}/summary", responses=error_responses(401, 403, 404, 422))
async def get_team_summary(summary: SummaryView) -> TeamSummary:
    """The Peer Coaching Summary Form as JSON. Members get everything; administrators get the
    plan, calendar and progress, with the confidential records left out (null)."""
    return summary


@router.get(
    "/teams/{team_id}/summary/document",
    response_class=Response,
    responses={
        **error_responses(401, 403, 404, 422),
        200: {
            "description": "A printable document",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
    },
)
async def get_team_summary_document(document: SummaryDocumentView) -> Response:
    """The summary form as a printable Markdown or HTML document (`format`), with times in
    the team's school's time zone. The same confidentiality as the JSON form."""
    # The HTML styles itself inline and needs nothing else: no script, no image, no form, no
    # frame, so text a teacher typed can never run or call out.
    html = document.media_type.startswith("text/html")
    headers = {"Content-Security-Policy": DOCUMENT_CSP} if html else None
    return Response(document.text, media_type=document.media_type, headers=headers)


DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
