"""The JSON API under ``/api/``: each answer is the document the CLI's ``--json`` prints for the
same use case; jobs the app runs; and the event stream open pages follow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from backup.errors import UsageError
from backup.web.context import Context, api_call, chosen_profile, heavy, load_profile, page_lang

PAGE_LIMIT = 1000  # the most inventory rows one API answer gives
STREAM_TICK = 0.2  # seconds between looks for news in an event stream
JOB_KINDS = ("incremental", "full", "verify")


def int_param(request: Request, name: str, default: int, most: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r}: give a whole number") from None
    if value < 0 or (most is not None and value > most):
        raise UsageError(f"{name}={value}: give a number from 0 to {most}" if most else f"{name}: 0 or more")
    return value


def library_query(request: Request) -> dict[str, Any]:
    """The library's filters as a request gives them (``/api/library`` and the page)."""
    params = request.query_params

    def yes_no(name: str) -> bool | None:
        said = params.get(name)
        if said not in (None, "", "yes", "no"):
            raise UsageError(f"{name}={said!r}: yes or no")
        return None if not said else said == "yes"

    return {
        "offset": int_param(request, "offset", 0),
        "limit": int_param(request, "limit", 60, 200),
        "kind": params.get("kind") or None,
        "source": params.get("source") or None,
        "month": params.get("month") or None,
        "stamped": yes_no("stamped"),
        "published": yes_no("published"),
        "backed_up": yes_no("backed_up"),
        "name": params.get("name") or None,
        "total": params.get("total") in ("1", "true"),
        "after": params.get("after") or None,
    }


# -- the API (a KeepmarkError a route raises is answered by the app's handler) --------------


def api_routes(ctx: Context) -> list[Route]:
    from backup.app import check as check_app
    from backup.app import inventory as inventory_app
    from backup.app import snapshots as snapshots_app
    from backup.app import status as status_app

    async def status(request: Request) -> Response:
        return await api_call(request, ctx, status_app.status)

    async def check(request: Request) -> Response:
        return await api_call(request, ctx, check_app.check_profile)

    async def snapshots(request: Request) -> Response:
        return await api_call(request, ctx, snapshots_app.list_snapshots)

    async def inventory(request: Request) -> Response:
        offset = int_param(request, "offset", 0)
        limit = int_param(request, "limit", 100, PAGE_LIMIT)
        missing = request.query_params.get("include_missing") in ("1", "true")
        return await api_call(
            request,
            ctx,
            lambda p: inventory_app.list_files(p, include_missing=missing, offset=offset, limit=limit),
        )

    async def profiles(request: Request) -> Response:
        from backup.app.profiles import list_profiles

        name = chosen_profile(request, ctx)
        doc = (await run_in_threadpool(list_profiles)).as_dict()
        for row in doc["profiles"]:
            row["selected"] = row["name"] == name
        return JSONResponse(doc, headers={"cache-control": "no-store"})

    async def daemon(request: Request) -> Response:
        return await api_call(request, ctx, lambda p: _Doc(status_app.daemon_state(p)))

    async def jobs(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(
                {"jobs": [j.as_dict() for j in ctx.jobs.listed()]}, headers={"cache-control": "no-store"}
            )
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse(
                {"ok": False, "error": 'the body must be JSON: {"kind": ...}'}, status_code=400
            )
        kind = body.get("kind") if isinstance(body, dict) else None
        if kind not in JOB_KINDS:
            return JSONResponse(
                {"ok": False, "error": f"kind: one of {', '.join(JOB_KINDS)}, not {kind!r}"}, status_code=400
            )
        profile = await run_in_threadpool(load_profile, chosen_profile(request, ctx))
        job = ctx.jobs.start(kind, profile.name, job_work(kind, profile))
        return JSONResponse(job.as_dict(), status_code=202)

    async def cancel(request: Request) -> Response:
        job = ctx.jobs.get(int(request.path_params["job"]))
        if job is None:
            return JSONResponse({"ok": False, "error": "no such job"}, status_code=404)
        job.cancel.cancel()
        return JSONResponse(job.as_dict(), status_code=202)

    async def events(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        follower = ctx.follower(name) if name else None
        # where to start: the browser's reconnect (Last-Event-ID), else the page's `since` (the
        # hub's newest message when the page was made), else now
        start = int_param(request, "since", 0) if "since" in request.query_params else ctx.hub.last_id()
        resumed = request.headers.get("last-event-id", "")
        if resumed.isdigit():
            start = int(resumed)

        lang = page_lang(request)

        async def stream() -> Any:
            seq = start
            yield "retry: 1000\n\n"
            if follower is not None:
                state = await run_in_threadpool(follower.read_state)
                yield _sse({"id": 0, "kind": "daemon", "data": state})
            while ctx.stopping is None or not ctx.stopping.is_set():
                if follower is not None:
                    await run_in_threadpool(follower.poll)
                for message in ctx.hub.since(seq, name):
                    seq = message["id"]
                    yield _sse(_in_language(message, lang))
                if await request.is_disconnected():
                    return
                await asyncio.sleep(STREAM_TICK)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def self_check(request: Request) -> Response:
        from backup.app.account import account_check, answer

        if request.method == "GET":
            return await api_call(request, ctx, account_check)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("answer") not in ("yes", "no"):
            doc = {"ok": False, "error": 'the body must be JSON: {"question": ID, "answer": "yes" | "no"}'}
            return JSONResponse(doc, status_code=400)
        question, yes = str(body.get("question")), body["answer"] == "yes"
        return await api_call(request, ctx, lambda p: answer(p, question, yes))

    async def timestamps(request: Request) -> Response:
        """GET: the authorities offered and the one the profile uses; POST ``{"tsa": KEY}``:
        ``use_authority`` (the profile given it, the newest checkpoint sent at once)."""
        from backup.app.timestamps import offered, use_authority

        if request.method == "GET":
            profile = await heavy(lambda: load_profile(chosen_profile(request, ctx)))
            doc = {"profile": profile.name, "tsa_url": profile.proof.tsa_url, "offered": offered()}
            return JSONResponse(doc, headers={"cache-control": "no-store"})
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("tsa"), str):
            return JSONResponse(
                {"ok": False, "error": 'the body must be JSON: {"tsa": KEY}'}, status_code=400
            )
        key = body["tsa"]
        return await api_call(request, ctx, lambda p: use_authority(p, key))

    async def thumb(request: Request) -> Response:
        """A picture of the inventory by its SHA-256 (``?size=1280`` for a file's page); it never
        changes, so the browser keeps it."""
        from starlette.responses import FileResponse

        from backup.app.library import THUMB_SIDE, thumbnail

        side = int_param(request, "size", THUMB_SIDE)
        name = chosen_profile(request, ctx)
        made = await heavy(lambda: thumbnail(load_profile(name), request.path_params["sha256"], side))
        return FileResponse(
            made.path,
            media_type="image/jpeg",
            headers={"cache-control": "private, max-age=31536000, immutable"},
        )

    async def library(request: Request) -> Response:
        from backup.app.library import library as page_of

        q = library_query(request)
        return await api_call(request, ctx, lambda p: page_of(p, **q))

    async def picture(request: Request) -> Response:
        from backup.app.picture import picture as facts_of

        sha = request.path_params["sha256"]
        return await api_call(request, ctx, lambda p: facts_of(p, sha))

    async def original(request: Request) -> Response:
        """The original itself, as recorded (a video's page plays it; ranges answered)."""
        import mimetypes

        from starlette.responses import FileResponse

        from backup.app.picture import original_file

        name = chosen_profile(request, ctx)
        path = await run_in_threadpool(
            lambda: original_file(load_profile(name), request.path_params["sha256"])
        )
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=kind, headers={"cache-control": "private, no-cache"})

    async def publication(request: Request) -> Response:
        from backup.app.publish import add

        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("platform", "url")):
            doc = {
                "ok": False,
                "error": 'the body must be JSON: {"platform": ..., "url": ..., "date": "YYYY-MM-DD"}',
            }
            return JSONResponse(doc, status_code=400)
        sha, when = request.path_params["sha256"], body.get("date") or None
        if when is not None and not isinstance(when, str):
            return JSONResponse({"ok": False, "error": "date: give it as YYYY-MM-DD"}, status_code=400)
        return await api_call(
            request, ctx, lambda p: add(p, sha, platform=body["platform"], url=body["url"], when=when)
        )

    async def reveal(request: Request) -> Response:
        from backup.app.picture import show_in_folder

        sha = request.path_params["sha256"]
        return await api_call(request, ctx, lambda p: show_in_folder(p, sha))

    return [
        Route("/api/library", library),
        Route("/api/library/{sha256}", picture),
        Route("/api/library/{sha256}/publications", publication, methods=["POST"]),
        Route("/api/library/{sha256}/reveal", reveal, methods=["POST"]),
        Route("/api/originals/{sha256}", original),
        Route("/api/thumbnails/{sha256}", thumb),
        Route("/api/self-check", self_check, methods=["GET", "POST"]),
        Route("/api/timestamps", timestamps, methods=["GET", "POST"]),
        Route("/api/status", status),
        Route("/api/check", check),
        Route("/api/snapshots", snapshots),
        Route("/api/inventory", inventory),
        Route("/api/profiles", profiles),
        Route("/api/daemon", daemon),
        Route("/api/jobs", jobs, methods=["GET", "POST"]),
        Route("/api/jobs/{job:int}/cancel", cancel, methods=["POST"]),
        Route("/api/events", events),
    ]


@dataclass
class _Doc:
    doc: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.doc


def _in_language(message: dict[str, Any], lang: str) -> dict[str, Any]:
    """A daemon's activity line with ``text``: its message in the page's language."""
    data = message.get("data")
    if message.get("kind") != "activity" or not isinstance(data, dict) or not data.get("words"):
        return message
    from backup.web.i18n import logged

    return {**message, "data": {**data, "text": logged(data["words"], data.get("facts"), lang)}}


def _sse(message: dict[str, Any]) -> str:
    data = json.dumps(message, ensure_ascii=False, default=str)
    return (
        f"id: {message['id']}\nevent: {message['kind']}\ndata: {data}\n\n"
        if message["id"]
        else f"event: {message['kind']}\ndata: {data}\n\n"
    )


def job_work(kind: str, profile: Any) -> Callable[[Any], Any]:
    if kind == "verify":
        from backup.app.maintenance import verify

        return lambda progress: verify(profile, progress=progress)
    from backup.app import backups

    run = backups.full if kind == "full" else backups.incremental
    return lambda progress: run(profile, progress=progress)
