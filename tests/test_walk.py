"""The walk: which files it keeps, folder by folder, against the ignore rules one name at a time."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from inventory.record.walk import JUNK_FILES, Ignore, walk

# Every junk pattern's own shape, in other cases, and near misses that must be kept.
NAMES = [
    ".DS_Store", ".ds_store", "._IMG_0001.JPG", "._", "Thumbs.db", "THUMBS.DB", "ehthumbs.db",
    "desktop.ini", "video.mp4.part", "clip.PARTIAL", "a.crdownload", "b.download", "c.opdownload",
    "x.tmp", "X.TEMP", "~$notes.docx", ".~lock.plan.odt#", "photo.icloud", ".a.jpg.keepmark-tmp",
    "a.tmpx", "tmp", "xthumbs.db", "thumbs.dbx", "desktop.ini.jpg", "part", "a.part.jpg", "~notes",
    ".~lock.plan.odt", "lock.#", "IMG_0001.JPG", "caption.txt", "raw.lrcat-wal", "Cover.PSD",
]  # fmt: skip
if sys.platform != "win32":
    NAMES += ["Icon\r", "icon\r.jpg", "two\nlines.tmp", "two.tmp\nlines.jpg", "new\nline.jpg"]

RULES = [
    [],
    ["*.lrcat-wal", "cover*"],
    ["*.lrcat-wal", "c?ver.psd"],  # a glob that is not a name, prefix or suffix: no screen
    ["*.lrcat-wal", "Drafts/*"],  # a glob with a path: no screen
]


def _kept_by_rule(ignore: Ignore, names: list[str]) -> set[str]:
    return {n for n in names if not ignore.file(n, n)}


@pytest.mark.parametrize("rules", RULES, ids=["junk only", "names", "other glob", "path glob"])
def test_walk_keeps_exactly_what_the_rules_keep(tmp_path: Path, rules: list[str]) -> None:
    root = tmp_path / "src"
    root.mkdir()
    for name in NAMES:
        (root / name).write_bytes(name.encode())
    (root / "sub").mkdir()
    (root / "sub" / "kept.jpg").write_bytes(b"k")
    (root / "sub" / "only.tmp").write_bytes(b"j")  # a folder whose only file is junk
    ignore = Ignore(rules)
    result = walk(str(root), ignore=ignore)
    found = {f.relpath for f in result.files}
    assert found == _kept_by_rule(ignore, NAMES) | {"sub/kept.jpg"}
    assert result.ignored == len(NAMES) + 2 - len(found)
    assert result.count == len(result.files) == len(found)
    for f in result.files:  # every column of every file is its own stat
        st = os.stat(f.path)
        assert (f.size, f.mtime_ns, f.inode) == (st.st_size, st.st_mtime_ns, st.st_ino)
        assert f.path == os.path.join(str(root), *f.relpath.split("/")) and f.root == str(root)


def test_junk_patterns_are_all_left_out(tmp_path: Path) -> None:
    # One file per junk pattern, its "*" filled in: none of them is kept.
    made = [p.replace("*", "x") for p in JUNK_FILES if sys.platform != "win32" or "\r" not in p]
    for name in made:
        (tmp_path / name).write_bytes(b"")
    result = walk(str(tmp_path))
    assert result.files == [] and result.ignored == len(made)


def test_a_file_as_the_start(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    photo = tmp_path / "a" / "b" / "IMG_1.jpg"
    photo.write_bytes(b"x")
    result = walk(str(tmp_path), str(photo))
    [found] = result.files
    assert (found.path, found.relpath, found.size) == (str(photo), "a/b/IMG_1.jpg", 1)
    assert walk(str(tmp_path), str(tmp_path / "a" / "b" / "x.tmp")).files == []


def test_listing_by_path_finds_what_listing_by_descriptor_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows lists folders by path (its scandir takes no descriptor): the same files, the same
    # columns, the same junk left out.
    from inventory.record import walk as walk_module

    for rel in ["a.jpg", "x.tmp", "2026/b.jpg", "2026/deep/c.mov", "2026/deep/.DS_Store", "empty/"]:
        target = tmp_path / rel
        if rel.endswith("/"):
            target.mkdir(parents=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(rel.encode())
    by_fd = walk(str(tmp_path))
    monkeypatch.setattr(walk_module, "_BY_FD", False)
    by_path = walk(str(tmp_path))
    assert by_path.files == by_fd.files and by_path.folders == by_fd.folders
    assert sorted(f.relpath for f in by_path.files) == ["2026/b.jpg", "2026/deep/c.mov", "a.jpg"]
    assert by_path.ignored == by_fd.ignored == 2
