"""The daemon's log: a rotating file in the state directory (``daemon.log``, 1 MiB, the last 3
kept), and stderr when it runs in the foreground.

Beside it, the same records as JSON lines (``activity.jsonl``, 512 KiB, one earlier file kept)
for the browser app's activity feed: each line's ``time`` and ``level`` as the log writes them,
the English ``line``, and the message's ``words`` (its %-format, as the code wrote it) with its
``facts`` (the arguments), so the app can say it in the page's language."""

from __future__ import annotations

import json
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_NAME = "daemon.log"
ACTIVITY_NAME = "activity.jsonl"
FORMAT = "%(asctime)s %(levelname)s %(message)s"


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        args = record.args if isinstance(record.args, tuple) else ()
        facts = [a if isinstance(a, (int, float)) and not isinstance(a, bool) else str(a) for a in args]
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "line": record.getMessage(),
                "words": record.msg if isinstance(record.msg, str) else None,
                "facts": facts,
            },
            ensure_ascii=False,
        )


def setup(state_dir: Path, *, foreground: bool) -> logging.Logger:
    log = logging.getLogger("keepmark.daemon")
    log.setLevel(logging.INFO)
    log.propagate = False
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    state_dir.mkdir(parents=True, exist_ok=True)
    file_handler = RotatingFileHandler(
        state_dir / LOG_NAME, maxBytes=1024 * 1024, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(FORMAT))
    log.addHandler(file_handler)
    lines = RotatingFileHandler(
        state_dir / ACTIVITY_NAME, maxBytes=512 * 1024, backupCount=1, encoding="utf-8"
    )
    lines.setFormatter(_JsonLines())
    log.addHandler(lines)
    if foreground:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(logging.Formatter("backup watch: %(message)s"))
        log.addHandler(err)
    return log


def close() -> None:
    log = logging.getLogger("keepmark.daemon")
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
