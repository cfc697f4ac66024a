"""The proof pages and their API (being built)."""

from __future__ import annotations

from starlette.routing import Route

from backup.web.context import Context
from backup.web.pages import Renderer


def proof_routes(ctx: Context, renderer: Renderer) -> list[Route]:
    return []
