"""One suite that every target passes unchanged: the in-memory target, a local folder, the S3
server on loopback, and rclone remotes served on loopback. A target whose tool is missing is
skipped with the reason.

Which target has which optional operation (``base.BatchUpload``, ``base.Temporaries``), which
opens quickly, and which hashes its listings carry is pinned below, so that a target silently
losing one fails here; each optional operation is then exercised on every target that has it."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from backup.targets.base import (
    HASHLIB_NAMES,
    BatchUpload,
    ObjectError,
    ObjectInfo,
    ObjectMissing,
    SourceChanged,
    Target,
    Temporaries,
)
from backup.targets.local import LocalTarget
from backup.targets.memory import MemoryTarget
from tests.kit import names
from tests.kit.hashing import sha256

TargetFactory = Callable[[], Target]

KINDS = ["memory", "local", "s3", "rclone_local", "rclone_webdav", "rclone_sftp"]
OPTIONAL: list[type] = [BatchUpload, Temporaries]
# What each target has: its optional operations, whether it opens quickly, the hashes its
# listings carry (rclone: the remote's preferred hash; the served WebDAV offers none).
HAS: dict[str, set[type]] = {
    "memory": set(),
    "local": {Temporaries},
    "s3": set(),
    "rclone_local": {BatchUpload},
    "rclone_webdav": {BatchUpload},
    "rclone_sftp": {BatchUpload},
}
QUICK = {"memory", "local"}
LISTED_HASHES: dict[str, set[str]] = {
    "memory": {"sha256"},
    "local": set(),
    "s3": {"sha256"},
    "rclone_local": {"sha256"},
    "rclone_webdav": set(),
    "rclone_sftp": {"sha1"},
}

# Names a shell would run, a command would take for options, quotes, other scripts, odd
# spacing, long names: every target stores and lists them as they are.
ODD_NAMES = names.HOSTILE


@pytest.fixture
def memory_target() -> Target:
    return MemoryTarget("mem")


@pytest.fixture
def local_target(tmp_path: Path) -> Target:
    t = LocalTarget("drive", tmp_path / "backup-drive", "lily")
    t.open_session()
    return t


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def target(kind: str, request: pytest.FixtureRequest) -> Target:
    t: Target = request.getfixturevalue(f"{kind}_target")
    return t


def _having(protocol: type) -> list[str]:
    return [k for k in KINDS if protocol in HAS[k]]


def _file(folder: Path, name: str, data: bytes) -> tuple[Path, str]:
    p = folder / name
    p.write_bytes(data)
    return p, sha256(data)


def _read(t: Target, key: str) -> bytes:
    with t.open(key) as f:
        return f.read()


def test_put_stat_list_open(target: Target, tmp_path: Path) -> None:
    src, sha = _file(tmp_path, "a.jpg", b"photo bytes" * 1000)
    target.put_file("originals/Shoots/2026/a.jpg", src, sha, src.stat().st_size)
    info = target.stat("originals/Shoots/2026/a.jpg")
    assert isinstance(info, ObjectInfo) and info.size == 11000
    assert _read(target, "originals/Shoots/2026/a.jpg") == src.read_bytes()
    keys = [i.key for i in target.list("originals/")]
    assert keys == ["originals/Shoots/2026/a.jpg"]


def test_missing_objects(target: Target) -> None:
    assert target.stat("originals/none.jpg") is None
    with pytest.raises(ObjectMissing):
        target.open("originals/none.jpg").read()
    target.delete("originals/none.jpg")  # absent is not an error
    assert list(target.list("nothing/")) == []


def test_changed_source_stores_nothing(target: Target, tmp_path: Path) -> None:
    src, _ = _file(tmp_path, "b.jpg", b"new content")
    with pytest.raises(SourceChanged):
        target.put_file("originals/S/b.jpg", src, "0" * 64, src.stat().st_size)
    assert target.stat("originals/S/b.jpg") is None
    assert list(target.list("")) == []


def test_replace_and_put_bytes(target: Target, tmp_path: Path) -> None:
    target.put_bytes("snapshots/one.json", b'{"v": 1}')
    target.put_bytes("snapshots/one.json", b'{"v": 2}')
    assert _read(target, "snapshots/one.json") == b'{"v": 2}'
    src, sha = _file(tmp_path, "c.txt", b"second")
    target.put_file("snapshots/one.json", src, sha, 6)
    assert _read(target, "snapshots/one.json") == b"second"


def test_prefixes_are_folders(target: Target) -> None:
    target.put_bytes("originals/a/x.jpg", b"1")
    target.put_bytes("originals/ab/y.jpg", b"22")
    target.put_bytes("versions/a/x.jpg", b"333")
    assert [i.key for i in target.list("originals/a/")] == ["originals/a/x.jpg"]
    assert sorted(i.key for i in target.list("originals/")) == ["originals/a/x.jpg", "originals/ab/y.jpg"]
    assert len(list(target.list(""))) == 3


def test_copy_and_delete(target: Target) -> None:
    target.put_bytes("originals/S/d.jpg", b"old content")
    target.copy("originals/S/d.jpg", "versions/S/d.20261124-051200.jpg")
    target.put_bytes("originals/S/d.jpg", b"new")
    assert _read(target, "versions/S/d.20261124-051200.jpg") == b"old content"
    target.delete("versions/S/d.20261124-051200.jpg")
    assert target.stat("versions/S/d.20261124-051200.jpg") is None
    assert _read(target, "originals/S/d.jpg") == b"new"


def test_names_in_any_script(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "src"
    folder.mkdir()
    expected = {}
    for i, name in enumerate(ODD_NAMES):
        src, sha = _file(folder, name, f"content {i}".encode())
        key = f"originals/My Shoots/{name}"
        target.put_file(key, src, sha, src.stat().st_size)
        expected[key] = src.read_bytes()
    listed = {i.key: i.size for i in target.list("originals/")}
    assert listed == {k: len(v) for k, v in expected.items()}
    for key, data in expected.items():
        assert _read(target, key) == data
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    assert not Path("pwned").exists()


def test_large_file_round_trip(target: Target, tmp_path: Path) -> None:
    data = os.urandom(1024 * 1024) * 12 + b"tail"
    src, sha = _file(tmp_path, "clip.mp4", data)
    seen: list[int] = []
    target.put_file("originals/Reels/clip.mp4", src, sha, len(data), progress=seen.append)
    assert sum(seen) >= len(data)
    assert sha256(_read(target, "originals/Reels/clip.mp4")) == sha


def test_hashes_listed_match_local_files(kind: str, target: Target, tmp_path: Path) -> None:
    data = b"hash me" * 333
    src, sha = _file(tmp_path, "e.jpg", data)
    target.put_file("originals/S/e.jpg", src, sha, src.stat().st_size)
    [info] = list(target.list("originals/S/", hashes=True))
    assert set(info.hashes) == LISTED_HASHES[kind]
    for name, value in info.hashes.items():
        assert target.local_hash(name, src) == value, name
    # local_hash gives every hash the target lists, and the inventory's SHA-256, right, on
    # every target (also where the listing carries none, as on a folder)
    for name in sorted(set(info.hashes) | {"sha256"}):
        if name in HASHLIB_NAMES:
            assert target.local_hash(name, src) == hashlib.new(name, data).hexdigest(), name


def test_parallel_puts(target: Target, tmp_path: Path) -> None:
    files = [_file(tmp_path, f"p{i}.jpg", os.urandom(2000 + i)) for i in range(12)]

    def put(i: int) -> None:
        src, sha = files[i]
        target.put_file(f"originals/S/p{i}.jpg", src, sha, src.stat().st_size)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(target.list("originals/S/"))) == 12


# -- which target has what ------------------------------------------------------------------


def test_optional_operations_are_pinned(kind: str, target: Target) -> None:
    assert isinstance(target, Target)
    assert {p for p in OPTIONAL if isinstance(target, p)} == HAS[kind]
    assert target.opens_quickly is (kind in QUICK)


# -- BatchUpload ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", _having(BatchUpload), indirect=True)
def test_batch_upload(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(target, BatchUpload)
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "src"
    items = []
    expected: dict[str, bytes] = {}
    # keys that end with the sources' own folder layout (sent together), one whose name differs
    # from its key (sent on its own), names a shell would run
    for i, rel in enumerate(["Shoots/2026/a.jpg", "Shoots/2026/b.jpg", "Shoots/x/c.mp4", *ODD_NAMES]):
        path = src.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = f"batch {i} ".encode() * (50 + i)
        path.write_bytes(data)
        key = f"originals/{rel}"
        items.append((key, path, sha256(data), len(data)))
        expected[key] = data
    renamed, renamed_sha = _file(tmp_path, "upload-0001.tmp", b"named otherwise")
    items.append(("originals/Shoots/d.jpg", renamed, renamed_sha, 15))
    expected["originals/Shoots/d.jpg"] = b"named otherwise"
    changed, _ = _file(src / "Shoots" / "2026", "e.jpg", b"changed since the scan")
    items.append(("originals/Shoots/2026/e.jpg", changed, "0" * 64, changed.stat().st_size))
    seen: list[int] = []

    result = target.put_files(items, progress=seen.append)

    assert set(result) == {key for key, *_ in items}  # an entry for every key
    assert isinstance(result.pop("originals/Shoots/2026/e.jpg"), SourceChanged)
    assert result == {key: None for key in expected}
    assert {i.key: i.size for i in target.list("originals/")} == {k: len(v) for k, v in expected.items()}
    for key, data in expected.items():
        assert _read(target, key) == data
    assert target.stat("originals/Shoots/2026/e.jpg") is None  # nothing stored for it
    assert sum(seen) >= sum(len(v) for v in expected.values())
    assert not list(tmp_path.rglob("pwned*"))
    # safe to retry: the same batch again stores the same objects, once each
    again = target.put_files(items)
    assert {key for key, err in again.items() if err is not None} == {"originals/Shoots/2026/e.jpg"}
    assert {i.key for i in target.list("originals/")} == set(expected)


@pytest.mark.parametrize("kind", _having(BatchUpload), indirect=True)
def test_batch_upload_of_a_vanished_file(target: Target, tmp_path: Path) -> None:
    assert isinstance(target, BatchUpload)
    src, sha = _file(tmp_path, "kept.jpg", b"still here")
    result = target.put_files(
        [("originals/kept.jpg", src, sha, 10), ("originals/gone.jpg", tmp_path / "gone.jpg", sha, 10)]
    )
    assert result["originals/kept.jpg"] is None
    assert isinstance(result["originals/gone.jpg"], ObjectError)
    assert [i.key for i in target.list("originals/")] == ["originals/kept.jpg"]


# -- Temporaries ----------------------------------------------------------------------------


def _leave_temporaries(kind: str, target: Target) -> list[Path]:
    """What an upload killed halfway leaves on ``target`` (its own temporary naming)."""
    if kind == "local":
        assert isinstance(target, LocalTarget)
        left = [
            target.root / "originals" / "S" / ".km-0badf00d.keepmark-tmp",
            target.root / ".km-12345678.keepmark-tmp",
        ]
        for p in left:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"half an upload")
        return left
    raise AssertionError(f"no way to leave a temporary on {kind}: add one with the target")


@pytest.mark.parametrize("kind", _having(Temporaries), indirect=True)
def test_clean_temporaries(kind: str, target: Target) -> None:
    assert isinstance(target, Temporaries)
    assert target.clean_temporaries() == 0  # none yet
    target.put_bytes("originals/S/kept.jpg", b"whole")
    left = _leave_temporaries(kind, target)
    assert [i.key for i in target.list("")] == ["originals/S/kept.jpg"]  # never listed
    assert target.clean_temporaries() == len(left)
    assert not any(p.exists() for p in left)
    assert _read(target, "originals/S/kept.jpg") == b"whole"
    assert target.clean_temporaries() == 0  # safe to run again
