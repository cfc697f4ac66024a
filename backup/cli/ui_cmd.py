"""``backup ui``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from backup.cli.common import add_json, add_profile, command, out

DESCRIPTION = """\
Open Keepmark in your web browser: the dashboard (health, the daemon, backups, what is waiting,
live activity) and, with no profile yet, the first-run setup. The app runs on this computer only
(http://127.0.0.1); the first line printed is the link to open, with a one-time key in it. The
browser opens by itself unless --no-browser. Runs until Ctrl-C (exit 0).

Scripts use the app's JSON API (/api/status, /api/check, /api/snapshots, /api/inventory) with
the link's key as `Authorization: Bearer KEY`.

To reach the app from another device (a tablet on the same network), set a password first
(`backup ui --set-password`), then `backup ui --host 0.0.0.0`.
"""


def register(sub: Any) -> None:
    p = command(sub, "ui", "open Keepmark in the browser (setup, dashboard)", DESCRIPTION)
    add_profile(p)
    p.add_argument("--port", type=int, default=0, metavar="N", help="port to listen on (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the link only; do not open a browser")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1; another one needs --set-password first)",
    )
    p.add_argument(
        "--set-password",
        action="store_true",
        help="set the password the app asks for on another address (asked twice), then exit",
    )
    add_json(p, 'print {"url", "port", "pid"} as one JSON line once the app listens, then nothing else')
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from backup.home import keepmark_home
    from backup.web.security import read_password_hash

    home = keepmark_home()
    if args.set_password:
        return _set_password(home)
    profile = None
    if args.profile:
        from backup.app.profiles import load

        profile = load(args.profile).name  # one that does not load is named now, not in the browser
    if not 0 <= args.port <= 65535:
        from backup.errors import UsageError

        raise UsageError(f"--port {args.port}: give a port from 1 to 65535 (or 0 for a free one)")
    from backup.web.server import Serving, serve

    def announce(serving: Serving) -> None:
        if args.json:
            import json

            sys.stdout.write(json.dumps(serving.as_dict()) + "\n")
            sys.stdout.flush()
        else:
            out(serving.url)
            out("Keepmark runs in your browser; press Ctrl-C here to stop it.")
            sys.stdout.flush()

    serve(
        host=args.host,
        port=args.port,
        profile=profile,
        password_hash=read_password_hash(home),
        announce=announce,
        open_browser=not args.no_browser,
    )
    return 0


def _set_password(home: Any) -> int:
    import getpass

    from backup.errors import UsageError
    from backup.web.security import save_password

    first = getpass.getpass("New password for the app: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    path = save_password(home, first)
    out(f"password set (kept as an scrypt hash in {path})")
    return 0


__all__ = ["register"]
