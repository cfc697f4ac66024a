"""The Watermark page (the profile's ``[watermark]`` as a form with a live preview) and its API:

- ``GET /watermark``: the page;
- ``GET /api/watermark``: the form's values, the choices and the samples (``designer.designer``);
- ``POST /api/watermark/preview`` ``{"sample": ID, "form": {...}}``: the mark on that sample, a
  JPEG at screen size (400 with the fields' problems);
- ``POST /api/watermark`` ``{"form": {...}}``: save into the profile file (400 with the fields'
  problems, the file untouched);
- ``POST /api/watermark/logo`` (multipart, field ``logo``): keep an uploaded logo;
- ``POST /api/watermark/stamp``: a job (kind ``stamp``) that stamps what is new, 202.

The use cases are ``backup.app.designer``'s; this module reads the request and answers.
"""

from __future__ import annotations

import json
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

UPLOAD_SLACK = 64 * 1024  # bytes a multipart body carries besides the file


async def _json_body(request: Request, shape: str) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise UsageError(f"the body must be JSON: {shape}")
    return body


def _form(body: dict[str, Any], shape: str) -> dict[str, Any]:
    form = body.get("form")
    if not isinstance(form, dict):
        raise UsageError(f"form: give the watermark form as a JSON object: {shape}")
    return form


def watermark_routes(ctx: Context, renderer: Renderer) -> list[Route]:
    from backup.app import designer as designer_app

    async def page(request: Request) -> Response:
        lang = page_lang(request)
        name = chosen_profile(request, ctx)
        if name is None:
            return redirect("/setup")
        doc = (await heavy(lambda: designer_app.designer(load_profile(name)))).as_dict()
        body = renderer.render(
            "watermark.html",
            lang,
            {
                **page_base(request, ctx, name),
                "doc": doc,
                "doc_json": json.dumps(doc, ensure_ascii=False),
                **page_jobs(ctx, name, ("stamp",)),
            },
        )
        return HTMLResponse(body, headers={"cache-control": "no-store"})

    async def document(request: Request) -> Response:
        return await api_call(request, ctx, designer_app.designer)

    async def preview(request: Request) -> Response:
        shape = '{"sample": "KIND:SHA256", "form": {...}}'
        body = await _json_body(request, shape)
        form = _form(body, shape)
        sample = body.get("sample")
        if not isinstance(sample, str):
            raise UsageError(f"sample: give a sample's id from the designer's list: {shape}")
        name = chosen_profile(request, ctx)
        jpeg = await heavy(lambda: designer_app.preview(load_profile(name), form, sample))
        return Response(jpeg, media_type="image/jpeg", headers={"cache-control": "no-store"})

    async def save(request: Request) -> Response:
        shape = '{"form": {...}}'
        form = _form(await _json_body(request, shape), shape)
        return await api_call(request, ctx, lambda p: designer_app.save(p, form))

    async def logo(request: Request) -> Response:
        most = designer_app.LOGO_LIMIT
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > most + UPLOAD_SLACK:
            doc = {"ok": False, "error": f"watermark.logo: a logo may be at most {most // (1024 * 1024)} MB"}
            return JSONResponse(doc, status_code=413)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise UsageError("send the logo as multipart/form-data, in the field logo")
        async with request.form(max_files=1, max_fields=4) as form:
            upload = form.get("logo")
            if upload is None or isinstance(upload, str):
                raise UsageError("logo: choose a picture file to upload")
            data = await upload.read(most + 1)
            filename = upload.filename or "logo"
        if len(data) > most:
            error = f"watermark.logo: {filename} is larger than {most // (1024 * 1024)} MB, the most allowed"
            return JSONResponse({"ok": False, "error": error}, status_code=413)
        return await api_call(request, ctx, lambda p: designer_app.store_logo(p, data, filename))

    async def stamp(request: Request) -> Response:
        from backup.app.stamp import stamp as stamp_app

        name = chosen_profile(request, ctx)
        profile = await heavy(lambda: load_profile(name))
        if any(j.kind == "stamp" for j in ctx.jobs.running() if j.profile == profile.name):
            return JSONResponse(
                {"ok": False, "error": "a stamp of this profile is running: wait for it to end"},
                status_code=409,
            )
        job = ctx.jobs.start("stamp", profile.name, lambda progress: stamp_app(profile, progress=progress))
        return JSONResponse(job.as_dict(), status_code=202)

    return [
        Route("/watermark", page),
        Route("/api/watermark", document, methods=["GET"]),
        Route("/api/watermark", save, methods=["POST"]),
        Route("/api/watermark/preview", preview, methods=["POST"]),
        Route("/api/watermark/logo", logo, methods=["POST"]),
        Route("/api/watermark/stamp", stamp, methods=["POST"]),
    ]
