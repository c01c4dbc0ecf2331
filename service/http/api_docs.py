"""`/docs`: the interactive API reference, served with no internet connection.

FastAPI's own page loads Swagger UI from a CDN, which leaves a blank page on a machine
without internet (and sends every reader's address to a third party). Here the same
Swagger UI comes from the installed `swagger-ui-bundle-v2` package and is served by the
service itself under `/docs/assets/`. `/redoc` (another CDN page) is not offered.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def add_api_docs(app: FastAPI) -> None:
    """Serve `/docs` and its assets; call before anything is mounted at `/`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
            # Swagger UI would otherwise ask an online validator about the schema
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )
