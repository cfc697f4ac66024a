"""What the app's routes share: the ``Context`` (the guard, the jobs, the followed daemons), which
profile a request is about, and errors as the CLI's ``--json`` prints them.

The profile is the one named by ``?profile=NAME`` (a profile of this Keepmark home, by name only:
a path is never taken from outside), else the session's choice, else the one ``backup ui -p``
named, else the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from backup.errors import EXIT_CANNOT_START, KeepmarkError, NothingFound, ProfileNotFound, UsageError
from backup.web.jobs import DaemonFollower, Hub, Jobs
from backup.web.security import Guard, Session


@dataclass
class Context:
    """What the routes share: the guard, the jobs and their hub, the followed daemons."""

    guard: Guard
    hub: Hub = field(default_factory=Hub)
    jobs: Jobs = field(init=False)
    followers: dict[str, DaemonFollower] = field(default_factory=dict)
    default_profile: str | None = None
    stopping: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self.jobs = Jobs(self.hub)

    def follower(self, profile: str) -> DaemonFollower:
        if profile not in self.followers:
            from backup.app.profiles import load
            from backup.app.status import activity_log, daemon_state

            loaded = load(profile)
            self.followers[profile] = DaemonFollower(
                self.hub, profile, activity_log(profile), lambda: daemon_state(loaded)
            )
        return self.followers[profile]


# -- profiles ---------------------------------------------------------------------------------


def profile_names() -> list[str]:
    from backup.app.profiles import profile_names as names

    return names()


def chosen_profile(request: Request, ctx: Context) -> str | None:
    """The profile a request is about; ``ProfileNotFound`` for a name that is not one of this
    home's profiles (a path is never taken from outside)."""
    names = profile_names()
    asked = request.query_params.get("profile")
    if asked is not None:
        if asked not in names:
            raise ProfileNotFound(
                f"no profile named {asked!r}: the profiles are {', '.join(names) or 'none yet'}"
            )
        return asked
    session: Session | None = request.scope["state"].get("session")
    for name in (session.profile if session else None, ctx.default_profile):
        if name in names:
            return name
    return names[0] if names else None


def load_profile(name: str | None) -> Any:
    from backup.app.profiles import load

    if name is None:
        raise ProfileNotFound("no profile yet: open the app's setup to create one")
    return load(name)


def page_base(request: Request, ctx: Context, profile: str | None) -> dict[str, Any]:
    """What every page's frame (``base.html``) needs: the CSRF token, the profile and the
    switcher's names, the path, and the hub's newest message id when the page was made (its
    event stream starts after it, so a job the page starts is never missed however soon it
    ends)."""
    session: Session | None = request.scope["state"].get("session")
    return {
        "csrf": session.csrf if session else "",
        "profile": profile,
        "profiles": profile_names(),
        "path": request.url.path,
        "events_since": ctx.hub.last_id(),
    }


def page_jobs(ctx: Context, profile: str, kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    """The jobs of this server for ``profile`` (of ``kinds`` only, when given) as a page's
    jobs list takes them (``_jobs.html``): ``jobs`` and ``jobs_json``."""
    import json

    jobs = [j.as_dict() for j in ctx.jobs.listed(profile) if not kinds or j.kind in kinds]
    return {"jobs": jobs, "jobs_json": json.dumps(jobs, ensure_ascii=False)}


# -- answers ----------------------------------------------------------------------------------


def http_status(exc: KeepmarkError) -> int:
    if isinstance(exc, (ProfileNotFound, NothingFound)):
        return 404
    if isinstance(exc, UsageError) or exc.exit_code == EXIT_CANNOT_START:
        return 400
    return 500


def error_doc(exc: KeepmarkError) -> dict[str, Any]:
    """As the CLI prints it with ``--json``."""
    doc: dict[str, Any] = {"ok": False, "error": str(exc), "exit_code": exc.exit_code}
    problems = getattr(exc, "problems", None)
    if problems:
        doc["problems"] = [p.as_dict() for p in problems]
    return doc


async def api_call(request: Request, ctx: Context, work: Callable[[Any], Any]) -> Response:
    """``work(profile)`` in a worker thread; its result's ``as_dict()`` as JSON (a
    ``KeepmarkError`` is answered by the app's handler, ``app.build``)."""
    name = chosen_profile(request, ctx)
    result = await heavy(lambda: work(load_profile(name)))
    return JSONResponse(result.as_dict(), headers={"cache-control": "no-store"})


LANG_COOKIE = "keepmark_lang"


def page_lang(request: Request) -> str:
    """The language of the page (or stream) a request asks for: the session's choice, else the
    cookie's, else the browser's ``Accept-Language``."""
    from backup.web import i18n

    session = request.scope["state"].get("session")
    chosen = (session.lang if session else None) or request.cookies.get(LANG_COOKIE)
    return i18n.pick(chosen, request.headers.get("accept-language"))


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(quote(path, safe="/?=&#%"), status_code=303)


HEAVY = 0.05  # seconds: work that took longer gives its freed memory back to the system
PAGES, PROVING = "pages", "proving"
# One piece of heavy work at a time per lane: two pages opened at once do not read a large
# inventory twice over in parallel, and a suspect being proved (seconds for a long clip) does
# not hold the pages up.
_lanes = {PAGES: asyncio.Lock(), PROVING: asyncio.Lock()}


async def heavy(work: Callable[[], Any], lane: str = PAGES) -> Any:
    """``work()`` in a worker thread, one such piece of work at a time in its ``lane``, its
    freed memory given back after."""
    import time

    from backup.web.memory import give_back

    async with _lanes[lane]:
        started = time.monotonic()
        try:
            return await run_in_threadpool(work)
        finally:
            if time.monotonic() - started > HEAVY:
                give_back()
