"""``backup watch``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import add_json, add_profile, command, emit_json, warn
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
Run the daemon in the foreground (for a service manager or a terminal): watch the profile's
source folders, and for every new or changed file once its write has finished, record it in the
inventory, write its watermarked copy and, under an [sources] important folder, back it up to
every target at once. Runs the [schedule] backups (a missed one soon after start or wake, once;
a new profile's first full backup at once).

On start it picks up everything that arrived while it was not running. Pending work is kept on
disk: stopped or killed at any moment, it finishes the job on the next start, never twice.
One daemon per profile. SIGTERM or Ctrl-C: exits 0 within seconds. Logs to stderr and to
daemon.log in the profile's state folder. `backup service install` runs it at log-in.
"""


def register(sub: Any) -> None:
    p = command(sub, "watch", "run the daemon: watch, record, stamp, back up on schedule", DESCRIPTION)
    add_profile(p)
    add_json(
        p, "on exit, print what the daemon did (files, stamped, failed, runs, queue) as one JSON document"
    )
    p.add_argument(
        "--polling",
        action="store_true",
        help="poll the folders instead of native events (network drives); also [watch] polling = true",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import signal

    from backup.app.profiles import load
    from backup.app.watch import daemon_for, watch

    daemon = daemon_for(load(args.profile), polling=True if args.polling else None)

    def stop(signum: int, frame: Any) -> None:
        daemon.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watched = watch(daemon, foreground=True)
    if args.json:
        emit_json(watched.as_dict())
    if watched.error is not None:  # a service manager restarts it (Restart=on-failure, KeepAlive)
        warn(f"error: the daemon stopped: {watched.error}")
        return EXIT_FAILED
    return 0
