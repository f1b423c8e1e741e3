"""The API's documentation at /schema: Swagger UI, served from this site.

Its files are vendored in static/swagger-ui from SmartBear's npm package swagger-ui-dist
(`scripts/update-swagger-ui.sh`; version 5, the first to read OpenAPI 3.1, which Litestar
writes): no CDN, nothing loaded from another site. The page starts it with a script of ours,
never an inline one. So the page runs under the site's strict Content-Security-Policy,
unchanged: scripts and styles from 'self' only (a browser test holds it to no violation).
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

DOCS_PATH = "/schema"
ASSETS = "/static/swagger-ui"


class LocalSwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI from our own origin, started by /static/api-docs.js."""

    def __init__(self) -> None:
        super().__init__(
            path="/swagger",
            favicon='<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">',
            style="",
        )

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(openapi_schema["info"]["title"])
        return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  {self.favicon}
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body>
  <main id="swagger-ui" data-spec="{DOCS_PATH}/openapi.json"></main>
  <noscript><p lang="fr">La documentation interactive demande JavaScript ; le schéma OpenAPI est
    <a href="{DOCS_PATH}/openapi.json">{DOCS_PATH}/openapi.json</a>.</p></noscript>
</body>
</html>
""".encode()
