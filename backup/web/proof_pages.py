"""The proof pages and their API: drop a suspected repost, see the verdict with the original
side by side, download the evidence bundle as one zip; the past cases with their status and
notes. The work is ``backup.app.prove`` through ``backup.app.cases``; this module parses the
request (the upload is streamed into the profile's cases folder, never held in memory), calls
the use case and renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from backup.errors import KeepmarkError, NothingFound, UsageError
from backup.web.context import (
    PROVING,
    Context,
    chosen_profile,
    heavy,
    load_profile,
    page_base,
    page_lang,
    redirect,
)
from backup.web.pages import Renderer

UPLOAD_MAX = 2 * 1024**3  # bytes: the largest suspect file taken (a long video)
# The evidence report is one self-contained page: its own inline style, its pictures as data:
# URLs; nothing else may load or run.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
FIELD_MAX = 4096  # bytes of a text field of the upload form


def case_urls(case_id: str, profile: str, matched: bool) -> dict[str, Any]:
    q = "?profile=" + quote(profile, safe="")
    return {
        "page": f"/proof/cases/{case_id}{q}",
        "suspect": f"/api/cases/{case_id}/suspect{q}",
        "zip": f"/api/cases/{case_id}/bundle.zip{q}" if matched else None,
        "report": f"/api/cases/{case_id}/report{q}" if matched else None,
        "original_frame": f"/api/cases/{case_id}/original-frame{q}",
    }


async def read_upload(request: Request, target: Path) -> tuple[str | None, dict[str, str]]:
    """Stream the multipart body's ``file`` field into ``target`` (at most ``UPLOAD_MAX``
    bytes) and keep its other small fields; (the file's name as sent, the fields). Refuses
    (``UsageError``) a body that is not multipart, has no ``file`` or is too large."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UsageError("send the suspect as multipart/form-data with the field file")
    state: dict[str, Any] = {"name": None, "filename": None, "header": b"", "value": b"", "headers": {}}
    fields: dict[str, str] = {}
    got: dict[str, Any] = {"file": False, "filename": None, "size": 0, "error": None}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["headers"][state["header"].lower()] = (
            state["headers"].get(state["header"].lower(), b"") + data[start:end]
        )

    def on_header_end() -> None:
        state["header"] = b""

    def on_headers_finished() -> None:
        _kind, opts = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["name"] = opts.get(b"name", b"").decode("utf-8", "replace")
        filename = opts.get(b"filename")
        state["filename"] = filename.decode("utf-8", "replace") if filename is not None else None
        state["value"] = b""
        if state["name"] == "file":
            if got["file"]:
                got["error"] = "send one file only, in the field file"
            got["file"] = True
            got["filename"] = state["filename"]

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if got["error"]:
            return
        chunk = data[start:end]
        if state["name"] == "file":
            got["size"] += len(chunk)
            if got["size"] > UPLOAD_MAX:
                got["error"] = f"file: larger than {UPLOAD_MAX // 1024**2} MB"
                return
            out.write(chunk)
        else:
            state["value"] += chunk
            if len(state["value"]) > FIELD_MAX:
                got["error"] = f"{state['name']}: longer than {FIELD_MAX} bytes"

    def on_part_end() -> None:
        if state["name"] and state["name"] != "file" and not got["error"]:
            fields[state["name"]] = state["value"].decode("utf-8", "replace")
        state["headers"] = {}

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    with open(target, "wb") as out:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                if got["error"]:
                    break
            parser.finalize()
        except Exception as exc:  # python-multipart's own errors: a malformed body
            if got["error"] is None:
                got["error"] = f"the upload is not a well-formed multipart body ({exc})"
    if got["error"]:
        raise UsageError(got["error"])
    if not got["file"]:
        raise UsageError("file: missing; send the suspect photo or video in the field file")
    return got["filename"], fields


def proof_routes(ctx: Context, renderer: Renderer) -> list[Route]:
    from backup.app import cases as cases_app

    def base(request: Request, profile: str | None) -> dict[str, Any]:
        return page_base(request, ctx, profile)

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        body = renderer.render(name, page_lang(request), context)
        return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})

    async def proof_page(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        if name is None:
            return redirect("/setup")
        listed = await heavy(lambda: cases_app.list_cases(load_profile(name)))
        rows = [{**cases_app.summary(c.doc), "urls": case_urls(c.id, name, c.matched)} for c in listed.cases]
        deleted = request.query_params.get("deleted") == "1"
        return page(request, "proof.html", {**base(request, name), "cases": rows, "deleted": deleted})

    async def case_page(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        if name is None:
            return redirect("/setup")
        case_id = request.path_params["case"]
        case = await heavy(lambda: cases_app.get_case(load_profile(name), case_id))
        doc = case.doc
        context = {
            **base(request, name),
            "case": doc,
            "urls": case_urls(case.id, name, case.matched),
            **case.drawing(),
            "statuses": cases_app.STATUSES,
            "notes_max": cases_app.NOTES_MAX,
            "saved": request.query_params.get("saved") == "1",
        }
        return page(request, "case.html", context)

    async def prove_api(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        profile = await heavy(lambda: load_profile(name))
        upload = cases_app.new_upload(profile)
        try:
            filename, fields = await read_upload(request, upload)
        except BaseException:
            upload.unlink(missing_ok=True)
            raise
        url = fields.get("url") or None
        case = await heavy(lambda: cases_app.open_case(profile, upload, filename, url=url), PROVING)
        doc = {
            **case.doc["prove"],
            "case": case.id,
            "zip": case_urls(case.id, profile.name, case.matched)["zip"],
            "page": case_urls(case.id, profile.name, case.matched)["page"],
        }
        return JSONResponse(doc, headers={"cache-control": "no-store"})

    async def cases_api(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        listed = await heavy(lambda: cases_app.list_cases(load_profile(name)))
        doc = listed.as_dict()
        for row in doc["cases"]:
            row["urls"] = case_urls(row["id"], listed.profile, bool(row["verdict"]["match"]))
        return JSONResponse(doc, headers={"cache-control": "no-store"})

    async def case_api(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        case_id = request.path_params["case"]
        if request.method == "DELETE":
            gone = await heavy(lambda: cases_app.delete_case(load_profile(name), case_id))
            return JSONResponse(
                {"ok": True, "profile": name, "deleted": gone}, headers={"cache-control": "no-store"}
            )
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if request.method == "POST":
            if form:
                sent: Any = dict(await request.form())
            else:
                try:
                    sent = await request.json()
                except ValueError:
                    sent = None
                if not isinstance(sent, dict):
                    raise UsageError('the body must be JSON: {"status": ..., "notes": ...}')
            status, notes = sent.get("status") or None, sent.get("notes")
            try:
                case = await heavy(
                    lambda: cases_app.update_case(load_profile(name), case_id, status=status, notes=notes)
                )
            except KeepmarkError as exc:
                if not form:
                    raise
                from backup.web.context import http_status

                context = {**base(request, name), "error": str(exc)}
                return page(request, "error.html", context, http_status(exc))
            if form:
                return redirect(f"/proof/cases/{case.id}?profile={quote(name or '', safe='')}&saved=1")
        else:
            case = await heavy(lambda: cases_app.get_case(load_profile(name), case_id))
        doc = {
            **case.as_dict(),
            "drawing": case.drawing(),
            "urls": case_urls(case.id, str(name), case.matched),
        }
        return JSONResponse(doc, headers={"cache-control": "no-store"})

    async def delete_form(request: Request) -> Response:
        """The case page's "Delete the case" (a form: no script needed); back to the cases."""
        name = chosen_profile(request, ctx)
        case_id = request.path_params["case"]
        try:
            await heavy(lambda: cases_app.delete_case(load_profile(name), case_id))
        except KeepmarkError as exc:
            from backup.web.context import http_status

            return page(request, "error.html", {**base(request, name), "error": str(exc)}, http_status(exc))
        return redirect(f"/proof?profile={quote(name or '', safe='')}&deleted=1")

    async def bundle_zip(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        case = await heavy(lambda: cases_app.get_case(load_profile(name), request.path_params["case"]))
        path = case.zip_file()
        if path is None or not path.is_file():
            raise NothingFound(f"case {case.id}: no evidence bundle (no original was found)")
        return FileResponse(
            path,
            media_type="application/zip",
            filename=f"evidence-{case.id}.zip",
            headers={"cache-control": "no-store"},
        )

    async def suspect_file(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        case = await heavy(lambda: cases_app.get_case(load_profile(name), request.path_params["case"]))
        path = case.suspect_file()
        if path.parent != case.folder / cases_app.SUSPECT_DIR or not path.is_file():
            raise NothingFound(f"case {case.id}: its suspect file is missing")
        return FileResponse(
            path,
            media_type=case.media_type(),
            content_disposition_type="inline",
            filename=path.name,
            headers={"cache-control": "private, max-age=86400"},
        )

    async def original_frame(request: Request) -> Response:
        name = chosen_profile(request, ctx)
        case = await heavy(lambda: cases_app.get_case(load_profile(name), request.path_params["case"]))
        path = case.original_frame()
        if path is None or not path.is_file():
            raise NothingFound(f"case {case.id}: no frame of the original (not a clip's match)")
        return FileResponse(
            path, media_type="image/jpeg", headers={"cache-control": "private, max-age=86400"}
        )

    async def report(request: Request) -> Response:
        """The bundle's printable report.html, as it is: self-contained, so it is served in a
        sandbox that allows its inline style and embedded pictures, and nothing else."""
        name = chosen_profile(request, ctx)
        case = await heavy(lambda: cases_app.get_case(load_profile(name), request.path_params["case"]))
        path = case.folder / cases_app.BUNDLE / "report.html"
        if not case.doc.get("bundle") or not path.is_file():
            raise NothingFound(f"case {case.id}: no evidence report (no original was found)")
        return FileResponse(
            path,
            media_type="text/html; charset=utf-8",
            headers={
                "cache-control": "no-store",
                "content-security-policy": REPORT_CSP,
            },
        )

    return [
        Route("/proof", proof_page),
        Route("/proof/cases/{case}", case_page),
        Route("/api/prove", prove_api, methods=["POST"]),
        Route("/api/cases", cases_api),
        Route("/api/cases/{case}", case_api, methods=["GET", "POST", "DELETE"]),
        Route("/api/cases/{case}/delete", delete_form, methods=["POST"]),
        Route("/api/cases/{case}/bundle.zip", bundle_zip),
        Route("/api/cases/{case}/suspect", suspect_file),
        Route("/api/cases/{case}/original-frame", original_frame),
        Route("/api/cases/{case}/report", report),
    ]
