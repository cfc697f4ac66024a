"""The first-run setup, a wizard of five steps: the account, what to protect, where to keep it,
when, and then the profile written (with the trusted timestamp authority chosen on the last
step: the first public one offered unless another or none is picked, after the page says that
only a hash of each checkpoint is sent), the service installed and the first full backup
started.

Answers are kept in the session until the last step (nothing is written before it but what a
step says it writes: S3 keys into the AWS credentials file, a new rclone remote into
rclone.conf). Every step is a plain form posted back (with the CSRF field) and answered with a
redirect to the next step; the folder picker is a page of links. The profile is written by
``backup.app.profiles.init``, the function ``backup init`` calls, with the same checks; its
errors are shown beside the field they are about.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from backup.errors import KeepmarkError, ProfileError, UsageError
from backup.web.context import Context, page_base, page_lang, profile_names, redirect
from backup.web.pages import Renderer

STEPS = ("account", "folders", "targets", "schedule", "finish")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
OAUTH_KINDS = ("drive", "onedrive", "dropbox")
NEW_REMOTE_KINDS = ("webdav", "sftp", "s3")


def profile_name_for(handle: str, taken: list[str]) -> str:
    """A profile name from a handle (letters, digits, ``.``, ``_``, ``-``), not yet taken."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "", handle.lstrip("@"))[:40].strip("._-") or "account"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _wizard(request: Request) -> dict[str, Any]:
    session = request.scope["state"]["session"]
    if session is None:  # a script with the bearer token: the wizard is for a browser
        raise UsageError("the setup runs in a browser session")
    wizard: dict[str, Any] = session.wizard
    return wizard


def _schedule_slot(every: str, day: str, clock: str) -> str:
    if every == "off":
        return "off"
    if not TIME.match(clock):
        raise UsageError(f"{clock!r}: give a time as HH:MM")
    if every == "weekly":
        if day not in DAYS:
            raise UsageError(f"{day!r}: a day of the week")
        return f"weekly {day} {clock}"
    if not day.isdigit() or not 1 <= int(day) <= 28:
        raise UsageError(f"{day!r}: a day of the month from 1 to 28")
    return f"monthly {int(day)} {clock}"


def setup_routes(ctx: Context, renderer: Renderer) -> list[Route]:
    from backup.app import setup as wizard_app

    def render(
        request: Request, step: str, extra: dict[str, Any] | None = None, status: int = 200
    ) -> Response:
        w = _wizard(request)
        context = {
            **page_base(request, ctx, None),
            "step": step,
            "steps": STEPS,
            "w": w,
            "days": DAYS,
            "oauth_kinds": OAUTH_KINDS,
            **(extra or {}),
        }
        return HTMLResponse(renderer.render("setup.html", page_lang(request), context), status_code=status)

    async def show(request: Request) -> Response:
        step = request.query_params.get("step", "account")
        if step not in STEPS:
            step = "account"
        w = _wizard(request)
        extra: dict[str, Any] = {}
        if step == "account" and "account" not in w:
            w["account"] = {"lang": page_lang(request)}
        if step == "folders":
            extra["suggested"] = (await run_in_threadpool(wizard_app.suggested_folders)).as_dict()["folders"]
        if step == "finish":
            extra.update(timestamp_choices())
        if step == "targets":
            extra.update(await target_choices())
            if request.query_params.get("oauth") in OAUTH_KINDS:
                extra["oauth"] = request.query_params["oauth"]
                extra["oauth_steps"] = wizard_app.oauth_remote_steps(extra["oauth"])
        return render(request, step, extra)

    async def pick(request: Request) -> Response:
        purpose = "targets" if request.query_params.get("for") == "targets" else "folders"
        where = request.query_params.get("path")
        try:
            listing = await run_in_threadpool(wizard_app.list_folders, where if where else str(Path.home()))
        except KeepmarkError as exc:
            return render(request, "pick", {"error": str(exc), "purpose": purpose, "listing": None}, 400)
        return render(request, "pick", {"listing": listing.as_dict(), "purpose": purpose})

    async def post_account(request: Request) -> Response:
        form = await request.form()
        w = _wizard(request)
        fields = {k: str(form.get(k, "")).strip() for k in ("account", "handle", "profile", "lang")}
        w["account"] = fields
        errors = {}
        if not fields["account"]:
            errors["account"] = "empty"
        if not fields["handle"]:
            errors["handle"] = "empty"
        if fields["lang"] in ("en", "zh-CN"):
            request.scope["state"]["session"].lang = fields["lang"]
        if not fields["profile"]:
            fields["profile"] = profile_name_for(fields["handle"], profile_names())
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", fields["profile"]):
            errors["profile"] = "name"
        elif fields["profile"] in profile_names():
            errors["profile"] = "taken"
        if errors:
            return render(request, "account", {"errors": errors}, 400)
        return redirect("/setup?step=folders")

    async def post_folders(request: Request) -> Response:
        form = await request.form()
        w = _wizard(request)
        action = str(form.get("action", "next"))
        folders: list[dict[str, Any]] = w.setdefault("folders", [])
        if action == "add":
            path = str(form.get("path", ""))
            try:
                await run_in_threadpool(wizard_app.list_folders, path)  # a folder that exists, or why not
            except KeepmarkError as exc:
                return render(
                    request, "pick", {"error": str(exc), "purpose": "folders", "listing": None}, 400
                )
            if all(f["path"] != path for f in folders):
                folders.append({"path": path, "chosen": True, "important": False})
            return redirect("/setup?step=folders")
        chosen = {str(v) for v in form.getlist("folder")}
        important = {str(v) for v in form.getlist("important")}
        known = {f["path"] for f in folders}
        for new in sorted(chosen - known):
            folders.append({"path": new, "chosen": True, "important": False})
        for f in folders:
            f["chosen"] = f["path"] in chosen
            f["important"] = f["path"] in important and f["chosen"]
        if action == "pick":  # the picker, with what was ticked so far kept
            return redirect("/setup/pick?for=folders")
        if not any(f["chosen"] for f in folders):
            suggested = (await run_in_threadpool(wizard_app.suggested_folders)).as_dict()["folders"]
            return render(request, "folders", {"errors": {"folders": "none"}, "suggested": suggested}, 400)
        return redirect("/setup?step=targets")

    async def post_targets(request: Request) -> Response:
        form = await request.form()
        w = _wizard(request)
        targets: list[dict[str, Any]] = w.setdefault("targets", [])
        action = str(form.get("action", "next"))
        sources = [f["path"] for f in w.get("folders", []) if f["chosen"]]
        if action == "remove":
            index = (
                int(str(form.get("index", "")).strip() or -1)
                if str(form.get("index", "")).strip().isdigit()
                else -1
            )
            if 0 <= index < len(targets):
                targets.pop(index)
            return redirect("/setup?step=targets")
        if action == "next":
            if not targets:
                return await _targets_error(request, "none")
            return redirect("/setup?step=schedule")
        try:
            spec, s3 = await _target_spec(form, action)
        except KeepmarkError as exc:
            return await _targets_error(request, "form", str(exc))
        probe = await run_in_threadpool(
            lambda: wizard_app.probe_target(
                spec,
                sources=[Path(s) for s in sources],
                endpoint=s3.get("endpoint"),
                region=s3.get("region"),
                aws_profile=s3.get("aws_profile"),
            )
        )
        targets.append({"spec": spec, "s3": s3, "probe": probe.as_dict()})
        return redirect("/setup?step=targets")

    async def _target_spec(form: FormData, action: str) -> tuple[str, dict[str, str]]:
        def field(name: str) -> str:
            return str(form.get(name, "")).strip()

        if action in ("drive", "folder"):
            path = field("path")
            if not path:
                raise UsageError("give a folder")
            return (path.rstrip("/\\") + "/Keepmark" if action == "drive" else path), {}
        if action == "remote":
            return f"{field('remote')}:Keepmark", {}
        if action == "s3":
            bucket, prefix = field("bucket"), field("prefix").strip("/") or "keepmark"
            if not bucket:
                raise UsageError("bucket: give the bucket's name")
            s3 = {k: field(k) for k in ("endpoint", "region") if field(k)}
            if field("access_key") or field("secret_key"):
                saved = await run_in_threadpool(
                    wizard_app.save_s3_credentials,
                    field("access_key"),
                    field("secret_key"),
                    aws_profile=field("aws_profile") or "keepmark",
                )
                s3["aws_profile"] = saved.aws_profile
            elif field("aws_profile"):
                s3["aws_profile"] = field("aws_profile")
            return f"s3://{bucket}/{prefix}", s3
        if action == "new-remote":
            kind = field("kind")
            keys = {
                "webdav": ("url", "vendor", "user", "pass"),
                "sftp": ("host", "port", "user", "pass"),
                "s3": ("provider", "endpoint", "access_key_id", "secret_access_key", "region"),
            }.get(kind, ())
            options = {k: field(f"{kind}_{k}") for k in keys if field(f"{kind}_{k}")}
            made = await run_in_threadpool(wizard_app.new_rclone_remote, field("name"), kind, options)
            return str(made.as_dict()["target_spec"]), {}
        raise UsageError(f"unknown action {action!r}")

    async def target_choices() -> dict[str, Any]:
        """The drives connected now and the rclone remotes set up: what the targets step offers."""
        from backup.app.profiles import configured_remotes

        drives = await run_in_threadpool(wizard_app.mounted_drives)
        remotes = await run_in_threadpool(configured_remotes)
        return {
            "drives": drives.as_dict()["drives"],
            "remotes": remotes.names,
            "remotes_problem": remotes.problem,
        }

    def timestamp_choices() -> dict[str, Any]:
        return {"authorities": wizard_app.timestamp_authorities()}

    async def _targets_error(request: Request, key: str, message: str = "") -> Response:
        return render(request, "targets", {"errors": {key: message or key}, **(await target_choices())}, 400)

    async def post_schedule(request: Request) -> Response:
        form = await request.form()
        w = _wizard(request)
        fields = {
            k: str(form.get(k, "")).strip()
            for k in (
                "incremental_every",
                "incremental_day",
                "incremental_time",
                "full_every",
                "full_day",
                "full_time",
            )
        }
        fields["on_battery"] = "yes" if form.get("on_battery") else "no"
        w["schedule"] = fields
        errors = {}
        for kind in ("incremental", "full"):
            try:
                w[f"{kind}_slot"] = _schedule_slot(
                    fields[f"{kind}_every"], fields[f"{kind}_day"], fields[f"{kind}_time"]
                )
            except UsageError as exc:
                errors[kind] = str(exc)
        if errors:
            return render(request, "schedule", {"errors": errors}, 400)
        return redirect("/setup?step=finish")

    async def post_finish(request: Request) -> Response:
        from backup.app.profiles import init, load
        from backup.app.service import service

        form = await request.form()
        w = _wizard(request)
        account = w.get("account", {})
        folders = [f for f in w.get("folders", []) if f["chosen"]]
        targets = w.get("targets", [])
        s3: dict[str, str] = next((t["s3"] for t in targets if t["s3"]), {})
        name = account.get("profile") or ""
        keys = [a["key"] for a in wizard_app.timestamp_authorities()]
        tsa = str(form.get("tsa", keys[0] if keys else "none"))
        w["tsa"] = tsa
        if tsa != "none" and tsa not in keys:
            return render(
                request,
                "finish",
                {"problems": [{"key": "tsa", "problem": f"{tsa!r} is not one of the authorities offered"}]}
                | timestamp_choices(),
                400,
            )

        def create() -> Any:
            return init(
                name,
                account=account.get("account", ""),
                handle=account.get("handle", ""),
                sources=[f["path"] for f in folders],
                important=[f["path"] for f in folders if f["important"]],
                targets=[t["spec"] for t in targets],
                endpoint=s3.get("endpoint"),
                region=s3.get("region"),
                aws_profile=s3.get("aws_profile"),
                incremental=w.get("incremental_slot"),
                full=w.get("full_slot"),
                on_battery=w.get("schedule", {}).get("on_battery", "yes") == "yes",
                tsa=None if tsa == "none" else tsa,
                no_tsa=tsa == "none",
            )

        try:
            await run_in_threadpool(create)
        except ProfileError as exc:
            problems = [p.as_dict() for p in exc.problems]
            return render(request, "finish", {"problems": problems} | timestamp_choices(), 400)
        except KeepmarkError as exc:
            problems = [{"key": "", "problem": str(exc)}]
            return render(request, "finish", {"problems": problems} | timestamp_choices(), 400)
        profile = await run_in_threadpool(load, name)
        session = request.scope["state"]["session"]
        session.profile = name
        notes: list[str] = []
        if form.get("service"):
            try:
                installed = (await run_in_threadpool(lambda: service(profile, "install"))).as_dict()
                if installed.get("dry_run"):  # Windows: the Task Scheduler steps, to follow by hand
                    notes.append(installed.get("text") or "")
                    notes += [f"$ {c}" for c in installed.get("commands", [])]
                notes += installed.get("notes", [])
            except (KeepmarkError, OSError) as exc:
                notes.append(f"the service could not be installed: {exc}")
        session.notes = notes
        from backup.web.api import job_work

        ctx.jobs.start("full", name, job_work("full", profile))
        session.wizard = {}
        return redirect(f"/?profile={name}")

    return [
        Route("/setup", show),
        Route("/setup/pick", pick),
        Route("/setup/account", post_account, methods=["POST"]),
        Route("/setup/folders", post_folders, methods=["POST"]),
        Route("/setup/targets", post_targets, methods=["POST"]),
        Route("/setup/schedule", post_schedule, methods=["POST"]),
        Route("/setup/finish", post_finish, methods=["POST"]),
    ]
