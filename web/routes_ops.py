"""Health, readiness and the pages."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from hub.errors import NotFound
from web.auth import services_of
from web.errors import JSONResponse

__all__ = ["STATIC_DIR", "routes"]

STATIC_DIR = Path(__file__).parent / "static"


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    up = await services_of(request).readiness.check()
    pg, rd = up["postgres"], up["redis"]
    body = {"status": "ok" if pg and rd else "unavailable",
            "postgres": "ok" if pg else "down", "redis": "ok" if rd else "down"}
    return JSONResponse(body, status_code=200 if pg and rd else 503)


def _page(name: str) -> Response:
    path = STATIC_DIR / name
    if not path.exists():
        raise NotFound("page not built")
    return FileResponse(path, headers={"Cache-Control": "no-cache"})


async def index(request: Request) -> Response:
    return _page("index.html")


async def admin(request: Request) -> Response:
    return _page("admin.html")


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/", index, methods=["GET"]),
    Route("/admin", admin, methods=["GET"]),
]
