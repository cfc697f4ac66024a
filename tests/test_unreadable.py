"""A file that cannot be read (permissions) is reported by name and the scan goes on, exit 1.

Permission checks do not apply to root, so when the tests run as root the scan runs in a
forked child that has dropped to the ``nobody`` user (with everything it will import already
imported, since the interpreter's own folders may not be readable to nobody)."""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from tests.conftest import run_backup

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder every user can enter (pytest's own tmp folders are private to their owner)."""
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="keepmark-perm-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_as_nobody(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    import pwd
    from concurrent.futures import ThreadPoolExecutor, wait  # noqa: F401

    import backup.cli.main as main_module

    nobody = pwd.getpwnam("nobody")
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 3
        try:
            os.close(out_r)
            os.environ.update(env)
            os.setgid(nobody.pw_gid)
            os.setgroups([])
            os.setuid(nobody.pw_uid)
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main_module.run(argv)
            os.write(out_w, json.dumps([out.getvalue(), err.getvalue()]).encode())
        except BaseException as exc:
            os.write(out_w, json.dumps(["", f"child failed: {exc!r}"]).encode())
        finally:
            os._exit(code)
    os.close(out_w)
    chunks = []
    while chunk := os.read(out_r, 65536):
        chunks.append(chunk)
    os.close(out_r)
    _, status = os.waitpid(pid, 0)
    out, err = json.loads(b"".join(chunks) or b'["", ""]')
    return os.waitstatus_to_exitcode(status), out, err


def test_unreadable_file_is_reported_and_the_scan_goes_on(shared_tmp: Path) -> None:
    home, sources = shared_tmp / "home", shared_tmp / "Shoots"
    sources.mkdir()
    (sources / "ok.txt").write_text("fine")
    (sources / "locked.txt").write_text("secret")
    (sources / "also-ok.txt").write_text("fine too")
    (sources / "locked-folder").mkdir()
    (sources / "locked-folder" / "inside.txt").write_text("x")
    env = {"KEEPMARK_HOME": str(home)}
    assert (
        run_backup("init", "lily", "--account", "L", "--handle", "l", "--source", str(sources), env=env).code
        == 0
    )
    for p in (shared_tmp, home, home / "profiles", sources):
        p.chmod(0o777)
    (sources / "locked.txt").chmod(0o000)
    (sources / "locked-folder").chmod(0o000)
    argv = ["inventory", "scan", "-p", "lily", "--json"]
    if os.geteuid() == 0:
        code, out, err = run_as_nobody(argv, env)
    else:
        r = run_backup(*argv, env=env)
        code, out, err = r.code, r.out, r.err
    assert code == 1, (out, err)
    doc = json.loads(out)
    assert doc["new"] == 2
    errors = {Path(e["path"]).name: e["error"] for e in doc["errors"]}
    assert "denied" in errors["locked.txt"].lower()
    assert "cannot list folder" in errors["locked-folder"]
    assert f"{sources / 'locked.txt'}: cannot read" in err
    assert sys.getrecursionlimit()  # the parent is unharmed
