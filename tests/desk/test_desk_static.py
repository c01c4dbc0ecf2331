"""The desk's static files: served by the app, and self-contained (no CDN, no web fonts,
nothing fetched from another origin), so the desk works offline and behind firewalls."""

from __future__ import annotations

import asyncio
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tidal.service.config import Settings, sqlite_url

DESK = Path(__file__).resolve().parents[2] / "service" / "desk"
#: `import ... from "x"`, `import "x"`, `export ... from "x"` and `import("x")`
MODULE_SPECIFIER = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']""")
EXPECTED_TYPES = {
    ".html": "text/html",
    ".js": "javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


class _References(HTMLParser):
    """Every URL an HTML document points at (src, href), in order."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def page_references() -> list[str]:
    parser = _References()
    parser.feed((DESK / "index.html").read_text(encoding="utf-8"))
    return [url for url in parser.urls if not url.startswith("#")]


def module_imports(script: Path) -> list[str]:
    return MODULE_SPECIFIER.findall(script.read_text(encoding="utf-8"))


def desk_files() -> list[Path]:
    return sorted(path for path in DESK.rglob("*") if path.is_file())


def test_page_references_only_files_of_the_desk() -> None:
    references = page_references()
    assert "desk.css" in references and "js/main.js" in references
    for url in references:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"index.html loads {url} from elsewhere"
        assert (DESK / parts.path).is_file(), f"index.html refers to a missing file: {url}"


def test_modules_import_only_modules_of_the_desk() -> None:
    scripts = sorted((DESK / "js").glob("*.js"))
    reachable = {DESK / "js" / "main.js"}
    for script in scripts:
        for specifier in module_imports(script):
            assert specifier.startswith("./"), (
                f"{script.name} imports {specifier!r}: not a local module"
            )
            target = (script.parent / specifier).resolve()
            assert target.is_file(), f"{script.name} imports a missing module {specifier!r}"
            reachable.add(target)
    assert set(scripts) <= reachable, "every module is used by the desk"


def test_nothing_is_fetched_from_another_origin() -> None:
    for path in desk_files():
        if path.suffix not in (".js", ".css", ".html"):
            continue
        text = path.read_text(encoding="utf-8")
        remote = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", text)
        assert remote == [], f"{path.name} mentions other origins: {remote}"
        if path.suffix == ".css":
            assert "@import" not in text and "@font-face" not in text and "url(" not in text


async def fetch_all(app: object, paths: list[str]) -> dict[str, httpx.Response]:
    """GET each path from the app in-process (no server, no lifespan needed for static files)."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as client:
        return {path: await client.get(path) for path in paths}


def test_desk_is_served_at_the_root_with_its_assets(tmp_path: Path) -> None:
    from tidal.service.http.app import create_app  # the file checks above do not need the service

    app = create_app(Settings(db_url=sqlite_url(tmp_path / "tidal.db"), clock="manual"))
    files = {"/" + path.relative_to(DESK).as_posix(): path for path in desk_files()}
    responses = asyncio.run(fetch_all(app, ["/", *files]))
    index = responses["/"]
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/main.js">' in index.text
    for url, path in files.items():
        response = responses[url]
        assert response.status_code == 200, url
        # Browsers refuse ES modules served with any type but JavaScript.
        assert EXPECTED_TYPES[path.suffix] in response.headers["content-type"], url
        assert response.content == path.read_bytes()
