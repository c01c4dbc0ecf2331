"""`/docs` works without internet: Swagger UI's files come from the service itself."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.service.conftest import Api


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value]


def test_the_api_docs_page_loads_only_assets_the_service_serves(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    parser = _Links()
    parser.feed(page.text)
    assert len(parser.links) >= 3  # stylesheet, icon, script
    for link in parser.links:
        parts = urlsplit(link)
        assert not parts.scheme and not parts.netloc, f"{link} is fetched from elsewhere"
        asset = api.client.get(link)
        assert asset.status_code == 200, link
        assert len(asset.content) > 0
    script = next(link for link in parser.links if link.endswith(".js"))
    assert "SwaggerUIBundle" in api.client.get(script).text
    assert "https://" not in page.text and "cdn" not in page.text.lower()


def test_the_api_docs_page_reads_the_services_own_schema(api: Api) -> None:
    page = api.client.get("/docs")
    assert "url: '/openapi.json'" in page.text
    schema = api.client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/v1/messages" in schema.json()["paths"]


def test_redoc_which_would_need_a_cdn_is_not_offered(api: Api) -> None:
    response = api.client.get("/redoc")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
