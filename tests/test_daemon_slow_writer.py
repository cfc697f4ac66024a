"""Half-written files are never recorded: a real ``backup watch`` daemon, and a real writer
process that writes a real video or photo in 1 MB chunks with pauses longer than the settle
time (a slow copy, an export in progress), on the native and the polling watcher.

On Linux the native watcher waits for the close-write once writes were seen; everywhere a photo
or video that does not decode is held and looked at again (with backoff) until
``[watch] decode_wait_seconds`` after its last change, and recorded as undecodable only then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from backup.app.samples import make_video
from tests.daemonkit import Watch, daemon_profile, inventory, wait_for, wait_idle
from tests.kit.hashing import sha256

pytestmark = pytest.mark.skipif(os.name == "nt", reason="signals and inotify: POSIX")

SETTLE = 0.2
CHUNK = 1 << 20

WATCHERS = {
    "native": {"settle_seconds": SETTLE},
    "polling": {"settle_seconds": SETTLE, "polling": True, "poll_interval": 0.5},
}
# Between chunks: three times the settle time; when polling, long enough that a poll sees each
# partial file and it settles before the next chunk, every time.
PAUSE = {"native": 0.6, "polling": 1.2}

# A writer of its own: opens the file once, writes it chunk by chunk, pauses between chunks,
# closes it at the end (as a copy or an export does).
WRITER = """
import sys, time
source, dest, chunk, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
data = open(source, "rb").read()
with open(dest, "wb") as f:
    for i in range(0, len(data), chunk):
        if i:
            time.sleep(pause)
        f.write(data[i : i + chunk])
        f.flush()
"""


def slow_write(source: Path, dest: Path, pause: float, chunk: int = CHUNK) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(source), str(dest), str(chunk), str(pause)])


def originals(home: Path) -> list[dict[str, Any]]:
    """The data of every ``original`` ledger entry, in order."""
    return [json.loads(r[0]) for r in inventory(home, "SELECT data FROM ledger WHERE type = 'original'")]


def a_video(path: Path) -> Path:
    """About 4 MB of H.264 and AAC in an MP4 whose index (the moov atom) comes last."""
    make_video(path, seconds=2.0, size="1280x720", extra=("-crf", "6"))
    return path


def a_photo(path: Path) -> Path:
    """A JPEG of about 3 MB (fine grain does not compress)."""
    size = (2000, 1500)
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, format="JPEG", quality=92)
    return path


@pytest.mark.parametrize("watcher", sorted(WATCHERS))
@pytest.mark.parametrize("kind", ["video", "photo"])
def test_slow_writer_pausing_longer_than_settle_recorded_once_as_its_final_content(
    home: Path, tmp_path: Path, watcher: str, kind: str
) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src], watch=WATCHERS[watcher])
    made = a_video(tmp_path / "export.mp4") if kind == "video" else a_photo(tmp_path / "export.jpg")
    data = made.read_bytes()
    assert len(data) > 2 * CHUNK  # at least three chunks: two pauses with a partial file
    dest = src / made.name
    with Watch(home) as w:
        passes = wait_idle(home)  # the start's reconciliation is through: the folder is empty
        writer = slow_write(made, dest, PAUSE[watcher])
        assert writer.wait(60) == 0
        wait_for(lambda: len(originals(home)) >= 1, 120, "the finished file recorded")
        wait_idle(home, passes)
        code = w.terminate()
    assert code == 0, w.text()
    entries = originals(home)
    assert len(entries) == 1, entries  # no partial state recorded, ever
    assert entries[0]["path"] == str(dest) and entries[0]["sha256"] == sha256(data)
    assert "decode_error" not in entries[0]
    assert inventory(home, "SELECT sha256 FROM paths") == [(sha256(data),)]
    assert inventory(home, "SELECT count(*) FROM sightings") == [(1,)]
    assert inventory(home, "SELECT count(*) FROM derivatives") == [(1,)]  # stamped once, whole
    held = "does not decode yet" in w.text()
    if watcher == "native":
        assert not held, w.text()  # the close-write was awaited: no partial file was even read
    else:
        assert held, w.text()  # partial states were read, did not decode, and were held


@pytest.mark.parametrize("watcher", sorted(WATCHERS))
def test_a_file_that_never_decodes_is_recorded_as_undecodable_after_the_wait(
    home: Path, tmp_path: Path, watcher: str
) -> None:
    """The first half of a video, written and closed (a copy that died): held while it may still
    change, looked at again, and recorded once, as undecodable, when ``decode_wait_seconds``
    have passed since its last change."""
    wait = 3.0
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src], watch={**WATCHERS[watcher], "decode_wait_seconds": wait})
    data = a_video(tmp_path / "clip.mp4").read_bytes()
    dest = src / "clip.mp4"
    with Watch(home) as w:
        passes = wait_idle(home)
        dest.write_bytes(data[: len(data) // 2])
        written = time.time()
        wait_for(lambda: "does not decode yet" in w.text(), 30, "the half file held")
        assert originals(home) == []
        wait_for(lambda: originals(home), 30 + wait, "the half file recorded")
        recorded = time.time()
        wait_idle(home, passes)
        code = w.terminate()
    assert code == 0, w.text()
    assert recorded - written >= wait - 0.5  # not before the wait was over (mtime granularity)
    entries = originals(home)
    assert len(entries) == 1 and entries[0]["sha256"] == sha256(data[: len(data) // 2])
    assert "moov atom not found" in entries[0]["decode_error"] or "decode" in entries[0]["decode_error"]
    assert w.text().count("does not decode yet") >= 2  # looked at again before the wait was over


@pytest.mark.parametrize("watcher", sorted(WATCHERS))
def test_a_file_closed_half_written_and_finished_later_is_recorded_once_whole(
    home: Path, tmp_path: Path, watcher: str
) -> None:
    """A writer that closes the file between chunks (each close-write is seen): the half file
    does not decode and is held; the finished file decodes and is the one recorded."""
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src], watch=WATCHERS[watcher])
    data = a_photo(tmp_path / "export.jpg").read_bytes()
    dest = src / "export.jpg"
    with Watch(home) as w:
        passes = wait_idle(home)
        dest.write_bytes(data[: len(data) // 2])
        wait_for(lambda: "does not decode yet" in w.text(), 30, "the half file held")
        with open(dest, "ab") as f:
            f.write(data[len(data) // 2 :])
        wait_for(lambda: originals(home), 60, "the whole file recorded")
        wait_idle(home, passes)
        code = w.terminate()
    assert code == 0, w.text()
    entries = originals(home)
    assert len(entries) == 1 and entries[0]["sha256"] == sha256(data), entries
    assert "decode_error" not in entries[0]
    assert inventory(home, "SELECT count(*) FROM derivatives") == [(1,)]


def test_a_held_file_is_not_recorded_and_the_next_whole_scan_reads_it_again(tmp_path: Path) -> None:
    """The scan's ``hold``: a half photo is listed as skipped (``does not decode yet``), not
    recorded, and the walk is not remembered as done, so the next scan of the unchanged folder
    reads the file again (and, without a hold, records it as undecodable)."""
    from inventory import Inventory, Source, scan
    from inventory.record.scan import NOT_DECODED_YET

    src = tmp_path / "Shoots"
    src.mkdir()
    data = a_photo(tmp_path / "whole.jpg").read_bytes()
    (src / "half.jpg").write_bytes(data[: len(data) // 2])
    (src / "notes.txt").write_text("shot list", encoding="utf-8")
    asked: list[str] = []

    def hold(found: Any, facts: Any, seen: Any) -> bool:
        asked.append(found.path)
        return facts.decode_error is not None

    with Inventory.open(tmp_path / "inv.sqlite") as inv:
        report = scan(inv, [Source(str(src), str(src))], hold=hold)
        assert report.skipped == [{"path": str(src / "half.jpg"), "reason": NOT_DECODED_YET}]
        assert report.new == 1 and report.undecodable == []
        assert [f["path"] for f in inv.list_files()] == [str(src / "notes.txt")]
        again = scan(inv, [Source(str(src), str(src))])
        assert again.new == 1 and [u["path"] for u in again.undecodable] == [str(src / "half.jpg")]
    assert sorted(asked) == [str(src / "half.jpg"), str(src / "notes.txt")]
