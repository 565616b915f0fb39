"""The summary form as a document: one outline of it (`outline`: its facts, parts, calendar
and records, times in the school's time zone), rendered as Markdown or as printable,
accessible HTML (headings in order, definition lists for the form's questions and answers, a
captioned table for the calendar, `lang`, a print stylesheet). The HTML is rendered by Jinja2
with every value escaped (a teacher's text is never markup); Markdown bodies are shown as
written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from app.auth.principal import Principal
from app.core.db import utcnow
from app.core.reads import Reads
from app.events.schemas import EventPublic
from app.summary import service
from app.summary.schemas import TeamSummary
from app.summary.service import event_status, when

FORM_ANSWERS = (
    ("Purpose of the learning target", "purpose"),
    ("Philosophies and literature", "philosophies_and_literature"),
    ("What was discussed at the pre-conference", "pre_conference_summary"),
    ("What I will take back to my classroom", "take_back_to_classroom"),
    ("How I will apply my new understandings", "how_to_apply"),
    ("How I will address the questions I still have", "addressing_open_questions"),
)
CONFERENCE_ANSWERS = (
    ("Summary", "summary"),
    ("Strategies modelled", "strategies_modelled"),
    ("Questions posed to each other", "questions_posed"),
    ("Next steps for learning", "next_steps"),
)
PLAN_ANSWERS = (
    ("Learning target", "learning_target"),
    ("Focus goal", "focus_goal"),
    ("Lesson purpose", "lesson_purpose"),
    ("Classroom dynamics", "classroom_dynamics"),
    ("Philosophies and literature", "philosophies_and_literature"),
)


@dataclass
class Answer:
    label: str
    value: str
    by: str | None = None


@dataclass
class Part:
    """A titled part of the document: answers, lists of entries, or both."""

    heading: str
    answers: list[Answer] = field(default_factory=list)
    lists: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class Row:
    when: str
    what: str
    where: str
    status: str


@dataclass
class _Group:
    heading: str
    parts: list[Part]


@dataclass
class _Reflection:
    title: str
    meta: str
    body: str


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Peer Coaching Summary: {{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #767676;margin-top:2rem}
h3{font-size:1.1rem}h4{font-size:1rem;margin-bottom:.25rem}
dt{font-weight:600}dd{margin:0 0 .5rem 0;white-space:pre-wrap}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600}
th,td{border:1px solid #767676;padding:.25rem .5rem;text-align:left;vertical-align:top}
.by,.meta{color:#4a4a4a;font-style:italic}.body{white-space:pre-wrap}
@media print{body{margin:0;max-width:none;font-size:11pt}
section,article,tr{break-inside:avoid}h2,h3{break-after:avoid}}
</style>
</head>
<body>
<header>
<h1>Peer Coaching Summary: {{ title }}</h1>
<dl>
{%- for a in facts %}
<dt>{{ a.label }}</dt><dd>{{ a.value }}</dd>
{%- endfor %}
</dl>
<p>Times are in the school's time zone, {{ zone }}.</p>
</header>
<main>
{%- for part in parts %}
<section aria-labelledby="part-{{ loop.index }}">
<h2 id="part-{{ loop.index }}">{{ part.heading }}</h2>
{{ render(part, 3) }}
</section>
{%- endfor %}
<section aria-labelledby="calendar">
<h2 id="calendar">Calendar of events</h2>
<table>
<caption>Every event of the team, in time order, with its real status</caption>
<thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Where</th>
<th scope="col">Status</th></tr></thead>
<tbody>
{%- for r in calendar %}
<tr><td>{{ r.when }}</td><td>{{ r.what }}</td><td>{{ r.where }}</td><td>{{ r.status }}</td></tr>
{%- endfor %}
</tbody>
</table>
</section>
{%- for group in groups %}
<section aria-labelledby="group-{{ loop.index }}">
<h2 id="group-{{ loop.index }}">{{ group.heading }}</h2>
{%- for part in group.parts %}
<article>
<h3>{{ part.heading }}</h3>
{{ render(part, 4) }}
</article>
{%- else %}
<p>None written yet.</p>
{%- endfor %}
</section>
{%- endfor %}
<section aria-labelledby="progress">
<h2 id="progress">Progress</h2>
<p>Cycle complete: {{ "yes" if complete else "no" }}</p>
{%- if missing %}
<h3>Still to do</h3>
<ul>
{%- for m in missing %}
<li>{{ m }}</li>
{%- endfor %}
</ul>
{%- endif %}
{%- if deadlines %}
<h3>Dates of the school year</h3>
<ul>
{%- for d in deadlines %}
<li>{{ d }}</li>
{%- endfor %}
</ul>
{%- endif %}
</section>
<section aria-labelledby="reflections">
<h2 id="reflections">Reflections</h2>
{%- for r in reflections %}
<article>
<h3>{{ r.title }}</h3>
<p class="meta">{{ r.meta }}</p>
<div class="body">{{ r.body }}</div>
</article>
{%- else %}
<p>No reflections yet.</p>
{%- endfor %}
</section>
</main>
</body>
</html>
"""

PART = """
{%- if part.answers %}
<dl>
{%- for a in part.answers %}
<dt>{{ a.label }}</dt><dd>{{ a.value }}
{%- if a.by %} <span class="by">({{ a.by }})</span>{% endif %}</dd>
{%- endfor %}
</dl>
{%- endif %}
{%- for label, items in part.lists %}
<h{{ level }}>{{ label }}</h{{ level }}>
<ul>
{%- for item in items %}
<li>{{ item }}</li>
{%- else %}
<li>None written</li>
{%- endfor %}
</ul>
{%- endfor %}"""

_env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
_part = _env.from_string(PART)
_document = _env.from_string(TEMPLATE)


def _render_part(part: Part, level: int) -> Markup:
    """A part's answers and lists, its list headings at `level` (escaped as it renders)."""
    return Markup(_part.render(part=part, level=level))


@dataclass
class Outline:
    """What the document says, in its order, before it is rendered."""

    title: str
    facts: list[Answer]
    zone: str
    parts: list[Part]
    calendar: list[Row]
    groups: list[_Group]
    complete: bool
    missing: list[str]
    deadlines: list[str]
    reflections: list[_Reflection]


def outline(s: TeamSummary, zone: ZoneInfo) -> Outline:
    names = {m.id: f"{m.given_name} {m.family_name}" for m in s.team.members}
    events = {e.id: e for e in s.calendar}
    now = utcnow()
    focus = (s.team.focus_area.name if s.team.focus_area else None) or s.team.focus_area_other
    facts = [
        Answer("School year", s.team.school_year),
        Answer("Teachers", ", ".join(names.values()) or "-"),
        Answer("Focus area", focus or "-"),
        Answer("Plan status", s.plan.status.value),
    ]
    plan = Part(
        "Action plan and pre-conference",
        [Answer(label, getattr(s.plan, key) or "-") for label, key in PLAN_ANSWERS],
    )
    forms = [
        Part(
            f"Learning form: {names.get(f.teacher_id, 'a former member')}",
            [Answer(label, getattr(f, key) or "-") for label, key in FORM_ANSWERS],
        )
        for f in s.learning_forms or []
    ]
    calendar = [_row(e, names, zone, now) for e in s.calendar]
    groups = []
    if s.conference_records is not None:
        conferences = []
        for c in s.conference_records:
            ev = events.get(c.event_id)
            kind = ev.kind.value.replace("_", "-").capitalize() if ev else "Conference"
            where = f", {ev.location}" if ev and ev.location else ""
            answers = [
                Answer(label, getattr(c, key) or "-", _by(c.written_by.get(key), names))
                for label, key in CONFERENCE_ANSWERS
                if getattr(c, key) is not None or key == "summary"
            ]
            conferences.append(
                Part(f"{kind}: {when(ev.starts_at, zone) if ev else '-'}{where}", answers)
            )
        groups.append(_Group("Conference records", conferences))
    if s.observation_records is not None:
        observations = []
        for o in s.observation_records:
            ev = events.get(o.event_id)
            answers = [Answer("Evidence", o.evidence or "-")]
            if ev is not None:
                observed = names.get(ev.observed_id, "a former member") if ev.observed_id else "-"
                answers = [
                    Answer("Date", when(ev.starts_at, zone)),
                    Answer("Teacher observed", observed),
                    Answer("Learning target", ev.learning_target or "-"),
                    Answer("Strategy observed", ev.strategy or "-"),
                    *answers,
                ]
            lists = [
                ("Affirmations", o.affirmations),
                ("New understandings", o.new_understandings),
                ("Questions I still have", o.open_questions),
            ]
            author = names.get(o.author_id, "a former member")
            observations.append(Part(f"Notes by {author}", answers, lists))
        groups.append(_Group("Observations", observations))
    reflections = [
        _Reflection(
            r.title,
            f"{r.author.given_name} {r.author.family_name}, {r.visibility.value}, "
            f"{when(r.created_at, zone)}",
            r.body,
        )
        for r in s.reflections
    ]
    return Outline(
        title=s.team.name,
        facts=facts,
        zone=zone.key,
        parts=[plan, *forms],
        calendar=calendar,
        groups=groups,
        complete=s.progress.complete,
        missing=[m.message for m in s.progress.missing],
        deadlines=[f"{d.message}: {d.state.value}" for d in s.progress.deadlines],
        reflections=reflections,
    )


def to_html(s: TeamSummary, zone: ZoneInfo) -> str:
    o = outline(s, zone)
    return _document.render(**vars(o), render=_render_part)


def to_markdown(s: TeamSummary, zone: ZoneInfo) -> str:
    o = outline(s, zone)
    out = [f"# Peer Coaching Summary: {o.title}", ""]
    out += [*_md_answers(o.facts), "", f"Times are in the school's time zone, {o.zone}.", ""]
    for part in o.parts:
        out += [f"## {part.heading}", "", *_md_part(part)]
    out += ["## Calendar of events", "", "| When | What | Where | Status |", "|---|---|---|---|"]
    out += [f"| {r.when} | {r.what} | {r.where} | {r.status} |" for r in o.calendar] + [""]
    for group in o.groups:
        out += [f"## {group.heading}", ""]
        for part in group.parts:
            out += [f"### {part.heading}", "", *_md_part(part)]
    out += ["## Progress", "", f"Cycle complete: {'yes' if o.complete else 'no'}", ""]
    out += [f"- still to do: {m}" for m in o.missing] + [f"- {d}" for d in o.deadlines] + [""]
    out += ["## Reflections", ""]
    for r in o.reflections:
        out += [f"### {r.title}", f"*{r.meta}*", "", r.body, ""]
    return "\n".join(out)


def _md_answers(answers: list[Answer]) -> list[str]:
    return [f"- **{a.label}:** {a.value}" + (f" *({a.by})*" if a.by else "") for a in answers]


def _md_part(part: Part) -> list[str]:
    out = [*_md_answers(part.answers), ""] if part.answers else []
    for label, items in part.lists:
        out += [f"**{label}:**", *[f"- {i}" for i in items or ["-"]], ""]
    return out


def _by(user_id: uuid.UUID | None, names: dict[uuid.UUID, str]) -> str | None:
    if user_id is None:
        return None
    return names.get(user_id, "a former member")


def _row(e: EventPublic, names: dict[uuid.UUID, str], zone: ZoneInfo, now: datetime) -> Row:
    what = e.kind.value.replace("_", " ")
    if e.observer_id and e.observed_id:
        what += f": {names.get(e.observer_id, '?')} observes {names.get(e.observed_id, '?')}"
    return Row(when(e.starts_at, zone), what, e.location or "-", event_status(e, now))


Format = Literal["markdown", "html"]
RENDERERS: dict[str, tuple[Callable[[TeamSummary, ZoneInfo], str], str]] = {
    "markdown": (to_markdown, "text/markdown; charset=utf-8"),
    "html": (to_html, "text/html; charset=utf-8"),
}


@dataclass(frozen=True)
class Rendered:
    """The summary as a document, and what its request needs to know of it."""

    text: str
    media_type: str
    confidential_included: bool
    holds_until: datetime  # when it would read otherwise with no row changed


async def render(
    reads: Reads, principal: Principal, team_id: uuid.UUID, fmt: Format, *, include_private: bool
) -> Rendered:
    """The summary of a team the caller sees (404 otherwise) as a document, with times in the
    team's time zone, from one snapshot: as this worker kept it, unless anything it shows has
    changed since (core/kept.py); a kept one is one statement (`Reads.at_one_moment`)."""

    async def read() -> Rendered:
        team = await service.standing(reads, principal, team_id)

        async def build() -> Rendered:
            now = utcnow()
            summary = await service.summary_of(
                reads, principal, team, include_private=include_private
            )
            zone = await service.time_zone(reads, team_id)
            write, media_type = RENDERERS[fmt]
            text = write(summary, zone)
            until = service.changes_at(summary, now)
            return Rendered(text, media_type, summary.confidential_included, until)

        key = ("document", fmt, include_private, team.reads_confidential, team.confidential_since)
        return await reads.kept(principal, key, team_id, build, until=lambda r, _: r.holds_until)

    return await reads.at_one_moment(read)
