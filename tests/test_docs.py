"""The documentation's references resolve inside the repository: Markdown links to files
and headings, and the `docs/<page>.md#anchor` references written in code and comments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {".venv", ".git", "node_modules", "__pycache__", "artifacts", "build", "dist"}
SOURCE_SUFFIXES = {".py", ".md", ".yaml", ".js", ".html", ".css", ".toml"}
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
DOCS_REFERENCE = re.compile(r"(?<![\w./])docs/([a-z-]+\.md)(#[a-z0-9-]+)?")


def repository_files(suffixes: set[str]) -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED or part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix in suffixes:
            found.append(path)
    return sorted(found)


def heading_anchors(markdown: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors = set()
    in_code = False
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        anchors.add(slug)
    return anchors


def broken(target: Path, anchor: str) -> str | None:
    if not target.exists():
        return f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} is missing"
    if anchor and target.suffix == ".md" and anchor not in heading_anchors(target):
        return f"{target.relative_to(ROOT)} has no heading #{anchor}"
    return None


MARKDOWN = repository_files({".md"})


@pytest.mark.parametrize("markdown", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_links_resolve_to_files_and_headings(markdown: Path) -> None:
    problems = []
    text = markdown.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # examples are not links
    text = re.sub(r"`[^`\n]*`", "", text)
    for link in MARKDOWN_LINK.findall(text):
        if re.match(r"^[a-z]+:", link):  # http:, https:, mailto:
            continue
        path_part, _, anchor = link.partition("#")
        target = (markdown.parent / path_part).resolve() if path_part else markdown
        problem = broken(target, anchor)
        if problem:
            problems.append(f"{link}: {problem}")
    assert problems == []


def test_docs_references_in_code_and_comments_resolve() -> None:
    problems = []
    for path in repository_files(SOURCE_SUFFIXES):
        if path.is_relative_to(ROOT / "tests"):
            continue  # this file's own examples
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for page, anchor in DOCS_REFERENCE.findall(line):
                problem = broken(ROOT / "docs" / page, anchor.lstrip("#"))
                if problem:
                    where = path.relative_to(ROOT)
                    problems.append(f"{where}:{number}: docs/{page}{anchor}: {problem}")
    assert problems == []


def test_the_anchor_of_a_heading_follows_github() -> None:
    page = ROOT / "docs" / "http-api.md"
    assert {"post-v1messages", "live-events", "roles"} <= heading_anchors(page)


def test_nothing_points_at_design_notes_outside_the_repository() -> None:
    # the contract is docs/; section numbers of a document readers cannot open help no one
    outside = re.compile(r"\bSPEC(?:\.md\b| \d| section)")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in repository_files(SOURCE_SUFFIXES)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if outside.search(line)
    ]
    assert offenders == []


FENCED = re.compile(r"```.*?```", re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
#: a repository path as written in a diagram: it starts with a top-level folder
DIAGRAM_PATH = re.compile(r"(?<![\w/.-])([a-z_]+/[\w./-]*)")


def repository_paths(markdown: str) -> list[str]:
    """The repository paths a page names: backticked ones (`service/http/app.py`) and
    those its diagrams write out. `/v1/...` and `METHOD /path` are API paths, not files."""
    found = []
    for block in FENCED.findall(markdown):
        found.extend(p for p in DIAGRAM_PATH.findall(block) if (ROOT / p.split("/")[0]).is_dir())
    for code in INLINE_CODE.findall(FENCED.sub("", markdown)):
        if "/" in code and " " not in code and not code.startswith(("/", "http")):
            found.append(code)
    return found


def test_every_path_the_architecture_page_names_exists() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    paths = repository_paths(page)
    assert len(paths) > 20  # the page is read as intended
    assert [path for path in paths if not (ROOT / path).exists()] == []


def test_a_missing_path_on_the_architecture_page_would_be_seen() -> None:
    page = "See `service/nowhere.py`.\n```\n  service/http/  engine/gone/\n```\n"
    paths = repository_paths(page)
    assert paths == ["service/http/", "engine/gone/", "service/nowhere.py"]
    assert not (ROOT / "service/nowhere.py").exists()
