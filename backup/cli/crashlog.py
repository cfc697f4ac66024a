"""The error log: where the CLI writes the traceback of an error Keepmark did not expect, so
that the creator sees one line and a developer can still see everything.

``<home>/logs/errors.log``, appended to and rotated at 1 MB (``errors.log.1`` keeps the one
before). When the home folder cannot be written, the system's temporary folder is used.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from backup.home import keepmark_home

LOG_NAME = "errors.log"
MAX_BYTES = 1024 * 1024


def log_path() -> Path:
    return keepmark_home() / "logs" / LOG_NAME


def record(exc: BaseException, argv: Sequence[str]) -> Path | None:
    """Append ``exc``'s traceback, with the command line and the time, to the error log;
    return the log's path, or None when no log could be written."""
    from backup import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (
        f"--- {stamp} keepmark {__version__}: {' '.join(argv)}\n"
        + "".join(traceback.format_exception(exc))
        + "\n"
    )
    for path in (log_path(), Path(tempfile.gettempdir()) / f"keepmark-{LOG_NAME}"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > MAX_BYTES:
                os.replace(path, path.with_name(path.name + ".1"))
            with open(path, "a", encoding="utf-8") as f:
                f.write(text)
            return path
        except OSError:
            continue
    return None
