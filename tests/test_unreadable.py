"""A file that cannot be read (permissions) is reported by name and the scan goes on, exit 1.

Permission checks do not apply to root, so when the tests run as root the scan runs as root
without the two capabilities that let it read any file (CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH, dropped from the bounding set before ``backup`` starts): the files the
test locks with mode 000 are then refused to it as to anyone, while everything root owns with
the usual modes (the interpreter, the checkout, pytest's own 0700 temporary folders) stays
readable. Unlike a switch to another user, this cannot fail because that user cannot read the
code: the scan itself runs from a copy of the code in a private (0700) folder, as from a clone
made in ``mktemp -d``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Result, run_backup

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")

PACKAGES = ("backup", "inventory", "watermark")
CANNOT_DROP = 97  # the launcher's exit code when this system does not let it drop capabilities

# Run as ``python -c LAUNCHER ARGS...``: drops root's file-access capabilities from the bounding
# set (so the process that follows never gets them), then becomes ``python -m backup ARGS...``.
LAUNCHER = """\
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        print(f"cannot drop capability {cap}: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        os._exit(CANNOT_DROP)
os.execv(sys.executable, [sys.executable, "-m", "backup", *sys.argv[1:]])
""".replace("CANNOT_DROP", str(CANNOT_DROP))


@pytest.fixture
def private_code() -> Iterator[Path]:
    """A copy of Keepmark's code in a folder only its owner may enter (0700, like ``mktemp -d``)."""
    folder = Path(tempfile.mkdtemp(prefix="keepmark-private-"))
    assert folder.stat().st_mode & 0o777 == 0o700
    code = folder / "k"
    for package in PACKAGES:
        shutil.copytree(REPO / package, code / package, ignore=shutil.ignore_patterns("__pycache__"))
    yield code
    shutil.rmtree(folder, ignore_errors=True)


def run_as_root_without_file_access(argv: list[str], env: dict[str, str], cwd: Path) -> Result:
    if not sys.platform.startswith("linux"):
        pytest.skip("running as root on a system without Linux capabilities: root reads every file")
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, **env},
        cwd=cwd,
        timeout=300,
    )
    if proc.returncode == CANNOT_DROP:
        pytest.skip(f"root here cannot give up its file-access capabilities: {proc.stderr.strip()}")
    return Result(proc)


def test_unreadable_file_is_reported_and_the_scan_goes_on(tmp_path: Path, private_code: Path) -> None:
    home, sources = tmp_path / "home", tmp_path / "Shoots"
    sources.mkdir()
    (sources / "ok.txt").write_text("fine")
    (sources / "locked.txt").write_text("secret")
    (sources / "also-ok.txt").write_text("fine too")
    (sources / "locked-folder").mkdir()
    (sources / "locked-folder" / "inside.txt").write_text("x")
    # The scan runs from the private copy of the code, never from the checkout.
    env = {"KEEPMARK_HOME": str(home), "PYTHONPATH": str(private_code)}
    where = subprocess.run(
        [sys.executable, "-c", "import backup; print(backup.__file__)"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=private_code,
        check=True,
    )
    assert Path(where.stdout.strip()).parent == private_code / "backup", where
    assert (
        run_backup(
            "init",
            "lily",
            "--account",
            "L",
            "--handle",
            "l",
            "--source",
            str(sources),
            env=env,
            cwd=private_code,
        ).code
        == 0
    )
    (sources / "locked.txt").chmod(0o000)
    (sources / "locked-folder").chmod(0o000)
    argv = ["inventory", "scan", "-p", "lily", "--json"]
    root = os.geteuid() == 0
    if root:
        r = run_as_root_without_file_access(argv, env, private_code)
    else:
        r = run_backup(*argv, env=env, cwd=private_code)
    code, out, err = r.code, r.out, r.err
    assert code == 1, (out, err)
    doc = json.loads(out)
    assert doc["new"] == 2
    errors = {Path(e["path"]).name: e["error"] for e in doc["errors"]}
    assert "denied" in errors["locked.txt"].lower()
    assert "cannot list folder" in errors["locked-folder"]
    assert f"{sources / 'locked.txt'}: cannot read" in err
    # The test's own process is unharmed: root still reads the locked file.
    assert os.geteuid() == (0 if root else os.geteuid())
    if root:
        assert (sources / "locked.txt").read_text() == "secret"
