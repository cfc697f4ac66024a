"""One suite that every target passes unchanged: the in-memory target, a local folder, the S3
server on loopback, and rclone remotes served on loopback. A target whose tool is missing is
skipped with the reason."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from backup.targets.base import ObjectInfo, ObjectMissing, SourceChanged, Target
from backup.targets.local import LocalTarget
from backup.targets.memory import MemoryTarget

TargetFactory = Callable[[], Target]

KINDS = ["memory", "local", "s3", "rclone_local", "rclone_webdav", "rclone_sftp"]

ODD_NAMES = [
    "with space.jpg",
    'quote\'s "double".jpg',
    '$(touch pwned) "x".jpg',
    "`touch pwned2`;rm -rf nothing&.mp4",
    "百合 · 写真 🌸.heic",
    "percent%20and+plus#hash.png",
    " leading and trailing space .txt",
    "l" * 180 + ".jpg",
]


@pytest.fixture
def memory_target() -> Target:
    return MemoryTarget("mem")


@pytest.fixture
def local_target(tmp_path: Path) -> Target:
    t = LocalTarget("drive", tmp_path / "backup-drive", "lily")
    t.open_session()
    return t


@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest) -> Target:
    t: Target = request.getfixturevalue(f"{request.param}_target")
    return t


def _file(folder: Path, name: str, data: bytes) -> tuple[Path, str]:
    p = folder / name
    p.write_bytes(data)
    return p, hashlib.sha256(data).hexdigest()


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
    assert hashlib.sha256(_read(target, "originals/Reels/clip.mp4")).hexdigest() == sha


def test_hashes_listed_match_local_files(target: Target, tmp_path: Path) -> None:
    src, sha = _file(tmp_path, "e.jpg", b"hash me" * 333)
    target.put_file("originals/S/e.jpg", src, sha, src.stat().st_size)
    [info] = list(target.list("originals/S/", hashes=True))
    for name, value in info.hashes.items():
        assert target.local_hash(name, src) == value, name


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
