"""``GET /redoc``: the OpenAPI document (``/openapi.json``) as a ReDoc page that works offline.

ReDoc's standalone bundle comes from the ``star-openapi-redoc`` wheel and is served by the hub
itself under ``/redoc/assets/`` (no CDN); the page's start-up script is a file too, so the
Content-Security-Policy needs no inline script (ReDoc sets inline styles and draws icons from
``data:`` URLs, which the docs policy of ``web.headers`` allows).
"""

from __future__ import annotations

from pathlib import Path

import star_openapi_redoc
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from hub.errors import NotFound

__all__ = ["routes"]

_BUNDLE = Path(star_openapi_redoc.__file__).parent / "templates" / "redoc" / "js" \
    / "redoc.standalone.js"
# The bundle is an ES module exporting ``init``; telemetry off (the page talks to the hub
# only; ReDoc's attribution logo from its CDN is refused by the CSP and hides itself).
_INIT_JS = """import {init} from "/redoc/assets/redoc.standalone.js";
init("/openapi.json", {expandResponses: "200,201", disableTelemetry: true},
     document.getElementById("redoc"));
"""
_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Evently Hub API (ReDoc)</title>
</head>
<body>
  <div id="redoc"></div>
  <script type="module" src="/redoc/assets/init.js"></script>
</body>
</html>
"""


async def redoc_page(request: Request) -> HTMLResponse:
    return HTMLResponse(_HTML)


async def redoc_asset(request: Request) -> Response:
    """The ReDoc bundle or the page's start-up script. Raises: NotFound (anything else)."""
    name = request.path_params["name"]
    if name == "init.js":
        return Response(_INIT_JS, media_type="text/javascript")
    if name != _BUNDLE.name or not _BUNDLE.is_file():
        raise NotFound("No such asset.")
    return FileResponse(_BUNDLE, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


routes: list[BaseRoute] = [
    Route("/redoc", redoc_page, methods=["GET"]),
    Route("/redoc/assets/{name}", redoc_asset, methods=["GET"]),
]
