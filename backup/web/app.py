"""The app: its pages, its JSON API and its event stream, as one Starlette application behind the
guard (``guard.GuardMiddleware``). Every route calls a use case of ``backup.app`` (the functions
the CLI calls) in a worker thread and renders or returns its result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from backup.errors import KeepmarkError
from backup.web.api import api_routes
from backup.web.backups_pages import backups_routes
from backup.web.context import Context, error_doc, http_status, page_lang
from backup.web.guard import GuardMiddleware
from backup.web.pages import Renderer, page_routes
from backup.web.proof_pages import proof_routes
from backup.web.setup_pages import setup_routes
from backup.web.watermark_pages import watermark_routes

HERE = Path(__file__).resolve().parent

# -- the application --------------------------------------------------------------------------


def build(ctx: Context) -> Starlette:
    renderer = Renderer(HERE / "templates")

    async def locked(scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        body = renderer.render(
            "locked.html", page_lang(request), {"password": ctx.guard.password_hash is not None}
        )
        await HTMLResponse(body, status_code=401)(scope, receive, send)

    routes = [
        *api_routes(ctx),
        *page_routes(ctx, renderer),
        *setup_routes(ctx, renderer),
        *watermark_routes(ctx, renderer),
        *backups_routes(ctx, renderer),
        *proof_routes(ctx, renderer),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def refused(request: Request, exc: Exception) -> Response:
        """A ``KeepmarkError`` no route turned into an answer: its one line, as the CLI says it."""
        assert isinstance(exc, KeepmarkError)
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                error_doc(exc), status_code=http_status(exc), headers={"cache-control": "no-store"}
            )
        body = renderer.render("error.html", page_lang(request), {"error": str(exc)})
        return HTMLResponse(body, status_code=http_status(exc))

    app = Starlette(routes=routes, exception_handlers={KeepmarkError: refused})
    app.add_middleware(GuardMiddleware, guard=ctx.guard, locked_page=locked)  # type: ignore[arg-type]
    return app


__all__ = ["Context", "build"]
