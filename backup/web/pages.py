"""The app's pages, rendered on the server in the page's language; the small script
(``static/app.js``) adds the live parts (the event stream, the job buttons)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from backup.app.said import say
from backup.errors import KeepmarkError, UsageError
from backup.web import i18n
from backup.web.context import (
    LANG_COOKIE,
    Context,
    chosen_profile,
    heavy,
    load_profile,
    page_base,
    page_jobs,
    page_lang,
    profile_names,
    redirect,
)


class Renderer:
    """One Jinja2 environment per language, each with that language's gettext installed; made
    when a page is first wanted in that language (an English-only session never reads the
    Chinese catalog)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._envs: dict[str, jinja2.Environment] = {}

    def _env(self, lang: str) -> jinja2.Environment:
        env = self._envs.get(lang)
        if env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self.folder),
                autoescape=True,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            words = i18n.translations(lang)
            env.install_gettext_translations(words, newstyle=True)  # type: ignore[attr-defined]
            env.globals["languages"] = i18n.LANGUAGES
            env.filters["when"] = _when
            env.filters["size"] = _size
            env.filters["say"] = partial(say, translate=words.gettext)  # a use case's Said, translated
            self._envs[lang] = env
        return env

    def render(self, name: str, lang: str, context: dict[str, Any]) -> str:
        return self._env(lang).get_template(name).render(lang=lang, **context)


def _when(stamp: str | None) -> str:
    if not stamp:
        return "—"
    from backup.humanize import when

    return when(stamp)


def _size(n: int | float | None) -> str:
    if n is None:
        return "—"
    from backup.humanize import size

    return size(int(n))


def page_routes(ctx: Context, renderer: Renderer) -> list[Route]:
    def base(request: Request, profile: str | None) -> dict[str, Any]:
        return page_base(request, ctx, profile)

    async def dashboard(request: Request) -> Response:
        lang = page_lang(request)
        try:
            name = chosen_profile(request, ctx)
        except KeepmarkError as exc:
            return HTMLResponse(renderer.render("error.html", lang, {"error": str(exc)}), status_code=404)
        if name is None:
            return redirect("/setup")
        from backup.app.account import account_check
        from backup.app.check import check_profile
        from backup.app.status import status
        from backup.app.timestamps import offered

        def gather() -> dict[str, Any]:
            profile = load_profile(name)
            return {
                "account": profile.account,
                "status": status(profile).as_dict(),
                "check": check_profile(profile).as_dict(),
                "self_check": account_check(profile).as_dict(),
                # a profile without an authority is offered one, right on its finding
                "authorities": [] if profile.proof.tsa_url else offered(),
            }

        try:
            facts = await heavy(gather)
        except KeepmarkError as exc:
            body = renderer.render("error.html", lang, {**base(request, name), "error": str(exc)})
            return HTMLResponse(body, status_code=500)
        session = request.scope["state"].get("session")
        notes, session.notes = (session.notes, []) if session is not None else ([], [])
        body = renderer.render(
            "dashboard.html",
            lang,
            {
                **base(request, name),
                **facts,
                **page_jobs(ctx, name),
                "notes": [n for n in notes if n],
                "tsa_done": request.query_params.get("tsa"),
            },
        )
        return HTMLResponse(body, headers={"cache-control": "no-store"})

    async def library_page(request: Request) -> Response:
        from backup.app.library import library
        from backup.web.api import library_query

        lang = page_lang(request)
        name = chosen_profile(request, ctx)
        if name is None:
            return redirect("/setup")
        query = library_query(request)
        page = await heavy(lambda: library(load_profile(name), **query))
        params = {k: v for k, v in request.query_params.items() if k not in ("after", "offset")}
        body = renderer.render(
            "library.html",
            lang,
            {**base(request, name), "page": page.as_dict(), "params": params},
        )
        return HTMLResponse(body, headers={"cache-control": "no-store"})

    async def picture_page(request: Request, error: str | None = None, form: Any = None) -> Response:
        from backup.app.picture import picture

        lang = page_lang(request)
        name = chosen_profile(request, ctx)
        if name is None:
            return redirect("/setup")
        sha = request.path_params["sha256"]
        facts = await heavy(lambda: picture(load_profile(name), sha))
        body = renderer.render(
            "picture.html",
            lang,
            {
                **base(request, name),
                "picture": facts.as_dict(),
                "done": request.query_params.get("done"),
                "error": error,
                "form": form or {},
            },
        )
        return HTMLResponse(body, status_code=400 if error else 200, headers={"cache-control": "no-store"})

    async def add_publication(request: Request) -> Response:
        from backup.app.picture import checked_sha
        from backup.app.publish import add

        name = chosen_profile(request, ctx)
        sha = checked_sha(request.path_params["sha256"])
        form = await request.form()
        fields = {k: str(form.get(k, "")).strip() for k in ("platform", "url", "date")}
        try:
            await heavy(
                lambda: add(
                    load_profile(name),
                    sha,
                    platform=fields["platform"],
                    url=fields["url"],
                    when=fields["date"] or None,
                )
            )
        except UsageError as exc:
            return await picture_page(request, error=str(exc), form=fields)
        return redirect(f"/library/{sha}?profile={name}&done=published#pub-title")

    async def reveal(request: Request) -> Response:
        from backup.app.picture import checked_sha, show_in_folder

        name = chosen_profile(request, ctx)
        sha = checked_sha(request.path_params["sha256"])
        await run_in_threadpool(lambda: show_in_folder(load_profile(name), sha))
        return redirect(f"/library/{sha}?profile={name}&done=revealed")

    async def set_lang(request: Request) -> Response:
        form = await request.form()
        lang = str(form.get("lang", ""))
        if lang not in i18n.LANGUAGES:
            return JSONResponse(
                {"ok": False, "error": f"lang: one of {', '.join(i18n.LANGUAGES)}"}, status_code=400
            )
        session = request.scope["state"].get("session")
        if session is not None:
            session.lang = lang
        back = str(form.get("back", "/"))
        response = redirect(back if back.startswith("/") and not back.startswith("//") else "/")
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True)
        return response

    async def set_profile(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("profile", ""))
        if name not in profile_names():
            return JSONResponse({"ok": False, "error": f"no profile named {name!r}"}, status_code=404)
        session = request.scope["state"].get("session")
        if session is not None:
            session.profile = name
        return redirect("/")

    async def self_check(request: Request) -> Response:
        from backup.app.account import answer

        form = await request.form()
        try:
            name = chosen_profile(request, ctx)
            profile = await run_in_threadpool(load_profile, name)
            said = str(form.get("answer", ""))
            if said not in ("yes", "no"):
                raise UsageError(f"answer: yes or no, not {said!r}")
            await run_in_threadpool(answer, profile, str(form.get("question", "")), said == "yes")
        except KeepmarkError as exc:
            body = renderer.render(
                "error.html", page_lang(request), {**base(request, None), "error": str(exc)}
            )
            return HTMLResponse(body, status_code=400)
        return redirect("/#self-check")

    async def use_authority(request: Request) -> Response:
        """The dashboard's "Use this authority" (a form): the profile given an offered timestamp
        authority and its newest checkpoint sent at once; back to the dashboard, which says
        whether the authority answered."""
        from backup.app.timestamps import use_authority

        form = await request.form()
        try:
            name = chosen_profile(request, ctx)
            used = await heavy(lambda: use_authority(load_profile(name), str(form.get("tsa", ""))))
        except KeepmarkError as exc:
            from backup.web.context import http_status

            body = renderer.render(
                "error.html", page_lang(request), {**base(request, None), "error": str(exc)}
            )
            return HTMLResponse(body, status_code=http_status(exc))
        done = "waiting" if used.waiting else "sent"
        return redirect(f"/?profile={used.profile}&tsa={done}#health")

    async def login(request: Request) -> Response:
        lang = page_lang(request)
        if ctx.guard.password_hash is None:
            return HTMLResponse(renderer.render("locked.html", lang, {"password": False}), status_code=401)
        if request.method == "GET":
            return HTMLResponse(renderer.render("locked.html", lang, {"password": True}))
        form = await request.form()
        ok = await run_in_threadpool(ctx.guard.password_ok, str(form.get("password", "")))
        if not ok:
            body = renderer.render("locked.html", lang, {"password": True, "wrong": True})
            return HTMLResponse(body, status_code=401)
        from backup.web.guard import session_cookie

        session = ctx.guard.new_session()
        response = redirect("/")
        response.raw_headers.append((b"set-cookie", session_cookie(session)))
        return response

    return [
        Route("/", dashboard),
        Route("/library", library_page),
        Route("/library/{sha256}", picture_page),
        Route("/library/{sha256}/publications", add_publication, methods=["POST"]),
        Route("/library/{sha256}/reveal", reveal, methods=["POST"]),
        Route("/lang", set_lang, methods=["POST"]),
        Route("/profile", set_profile, methods=["POST"]),
        Route("/self-check", self_check, methods=["POST"]),
        Route("/timestamps", use_authority, methods=["POST"]),
        Route("/login", login, methods=["GET", "POST"]),
    ]
