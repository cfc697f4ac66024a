"""The backups pages and their API: every target with its snapshots (``/backups``: verify,
prune, repair, the jobs), a snapshot as a folder tree (``/backups/TARGET/SNAPSHOT``) with its
restore form, and the JSON routes they use (``backup.app.browse`` does the work)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from backup.errors import UsageError
from backup.web.context import (
    Context,
    api_call,
    chosen_profile,
    heavy,
    load_profile,
    page_base,
    page_jobs,
    page_lang,
    redirect,
)
from backup.web.pages import Renderer

NO_STORE = {"cache-control": "no-store"}


async def json_body(request: Request, shape: str) -> dict[str, Any]:
    """The request's JSON object; ``UsageError`` (400) saying the shape wanted otherwise."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise UsageError(f"the body must be a JSON object: {shape}")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise UsageError(f"{name}: give it as text")
    return value


def flag(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise UsageError(f"{name}: true or false, not {value!r}")
    return value


def restore_fields(body: dict[str, Any]) -> dict[str, Any]:
    """``{target, snapshot, paths | path, to, overwrite}`` of a restore request."""
    paths = body.get("paths")
    if paths is None and "path" in body:
        paths = [body["path"]]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise UsageError("paths: a list of the snapshot's files and folders to restore ('' for all of it)")
    return {
        "target": text_field(body, "target"),
        "snapshot": text_field(body, "snapshot"),
        "paths": paths,
        "to": text_field(body, "to"),
        "overwrite": flag(body, "overwrite"),
    }


def int_query(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r}: give a whole number") from None


def backups_routes(ctx: Context, renderer: Renderer) -> list[Route]:
    from backup.app import browse

    def base(request: Request, profile: str | None) -> dict[str, Any]:
        return page_base(request, ctx, profile)

    # -- pages ------------------------------------------------------------------------------

    async def backups_page(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        if name is None:
            return redirect("/setup")
        view = await heavy(lambda: browse.backups_view(load_profile(name)))
        body = renderer.render(
            "backups.html",
            page_lang(request),
            {**base(request, name), "view": view.as_dict(), **page_jobs(ctx, name)},
        )
        return HTMLResponse(body, headers=NO_STORE)

    async def snapshot_page(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        if name is None:
            return redirect("/setup")
        target, snapshot = request.path_params["target"], request.path_params["snapshot"]
        params = request.query_params
        offset = int_query(request, "offset")
        tree = await heavy(
            lambda: browse.snapshot_tree(
                load_profile(name),
                target,
                snapshot,
                params.get("path"),
                select=params.get("select"),
                offset=offset,
            )
        )
        body = renderer.render(
            "snapshot.html",
            page_lang(request),
            {**base(request, name), "tree": tree.as_dict(), **page_jobs(ctx, name)},
        )
        return HTMLResponse(body, headers=NO_STORE)

    # -- the API ----------------------------------------------------------------------------

    async def tree_api(request: Request) -> Response:
        target, snapshot = request.path_params["target"], request.path_params["snapshot"]
        params = request.query_params
        offset = int_query(request, "offset")
        limit = int_query(request, "limit") or browse.TREE_LIMIT
        return await api_call(
            request,
            ctx,
            lambda p: browse.snapshot_tree(
                p,
                target,
                snapshot,
                params.get("path"),
                select=params.get("select"),
                offset=offset,
                limit=limit,
            ),
        )

    async def restore_plan(request: Request) -> Response:
        f = restore_fields(await json_body(request, '{"target", "snapshot", "paths", "to", "overwrite"}'))
        return await api_call(
            request,
            ctx,
            lambda p: browse.restore_plan(
                p, f["target"], f["snapshot"], f["paths"], f["to"], overwrite=f["overwrite"]
            ),
        )

    async def restore(request: Request) -> Response:
        f = restore_fields(await json_body(request, '{"target", "snapshot", "paths", "to", "overwrite"}'))
        name = chosen_profile(request, ctx)

        def checked() -> Any:
            profile = load_profile(name)
            browse.check_restore(profile, f["target"], f["snapshot"], f["paths"], f["to"])
            return profile

        profile = await heavy(checked)
        job = ctx.jobs.start(
            "restore",
            profile.name,
            lambda progress: browse.restore_paths(
                profile,
                f["target"],
                f["snapshot"],
                f["paths"],
                f["to"],
                overwrite=f["overwrite"],
                progress=progress,
            ),
        )
        return JSONResponse(job.as_dict(), status_code=202, headers=NO_STORE)

    async def verify(request: Request) -> Response:
        from backup.app.maintenance import verify as verify_now

        body = await json_body(request, '{"target"?, "read_data"?, "sample"?}')
        target = text_field(body, "target", required=False)
        read_data = flag(body, "read_data")
        sample = body.get("sample")
        if sample is not None and (
            isinstance(sample, bool) or not isinstance(sample, (int, float)) or not 0 < sample <= 100
        ):
            raise UsageError(f"sample: a percentage above 0 and at most 100, not {sample!r}")
        name = chosen_profile(request, ctx)
        profile = await heavy(lambda: load_profile(name))
        only = browse.chosen(profile, target)
        job = ctx.jobs.start(
            "verify",
            profile.name,
            lambda progress: verify_now(
                profile,
                only,
                read_data=read_data,
                sample=float(sample) if sample is not None and not read_data else None,
                progress=progress,
            ),
        )
        return JSONResponse(job.as_dict(), status_code=202, headers=NO_STORE)

    async def prune(request: Request) -> Response:
        body = await json_body(request, '{"target"?, "dry_run": true | false}')
        target = text_field(body, "target", required=False)
        dry_run = flag(body, "dry_run", True)
        name = chosen_profile(request, ctx)
        if dry_run:
            return await api_call(
                request, ctx, lambda p: browse.prune(p, browse.chosen(p, target), dry_run=True)
            )
        profile = await heavy(lambda: load_profile(name))
        only = browse.chosen(profile, target)
        job = ctx.jobs.start(
            "prune", profile.name, lambda progress: browse.prune(profile, only, progress=progress)
        )
        return JSONResponse(job.as_dict(), status_code=202, headers=NO_STORE)

    async def repair(request: Request) -> Response:
        from backup.app.repair import repair as repair_now

        body = await json_body(request, '{"target"?}')
        target = text_field(body, "target", required=False)
        name = chosen_profile(request, ctx)
        profile = await heavy(lambda: load_profile(name))
        only = browse.chosen(profile, target)
        job = ctx.jobs.start(
            "repair", profile.name, lambda progress: repair_now(profile, only=only, progress=progress)
        )
        return JSONResponse(job.as_dict(), status_code=202, headers=NO_STORE)

    async def folders(request: Request) -> Response:
        """The folder picker of the restore form: the setup's listing of sub-folders."""
        from pathlib import Path

        from backup.app.setup import list_folders

        where = request.query_params.get("path") or str(Path.home())
        return await api_call(request, ctx, lambda p: list_folders(where))

    return [
        Route("/backups", backups_page),
        Route("/backups/{target}/{snapshot}", snapshot_page),
        Route("/api/snapshots/{target}/{snapshot}/tree", tree_api),
        Route("/api/restore/plan", restore_plan, methods=["POST"]),
        Route("/api/restore/folders", folders),
        Route("/api/restore", restore, methods=["POST"]),
        Route("/api/verify", verify, methods=["POST"]),
        Route("/api/prune", prune, methods=["POST"]),
        Route("/api/repair", repair, methods=["POST"]),
    ]
