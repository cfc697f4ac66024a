"""The daemon's log: a rotating file in the state directory (``daemon.log``, 1 MiB, the last 3
kept), and stderr when it runs in the foreground."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_NAME = "daemon.log"
FORMAT = "%(asctime)s %(levelname)s %(message)s"


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
