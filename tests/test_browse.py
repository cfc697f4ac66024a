"""The backups as the browser app uses them (``backup.app.browse``), without a browser: a
snapshot listed as folders, a restore planned (conflicts first) and run exactly on what was
chosen, the destination checked, prune with progress and cancel; then the same through the JSON
API of a real ``backup ui`` (CSRF, a path that climbs out, a profile's unknown target)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from backup.app import browse
from backup.app.backups import full
from backup.app.profiles import load
from backup.app.workspace import targets_for
from backup.errors import NothingFound, UsageError
from backup.profile.model import Profile
from backup.runs.snapshot import list_ids
from inventory.progress import Cancelled, Event, FileDone, Progress, Started
from tests.backupkit import tree, write_profile
from tests.webkit import Ui, running_ui, session_of

FILES = {
    "2026/March/IMG_0001.jpg": b"march one " * 300,
    "2026/March/IMG_0002.jpg": b"march two " * 400,
    "2026/April/IMG_0003.jpg": b"april three " * 200,
    "Exports/[1].jpg": b"bracketed " * 100,
    "Exports/1.jpg": b"plain one " * 100,
    "Exports/a*b.jpg": b"starred " * 100,
    "Exports/ab.jpg": b"not starred " * 100,
    "notes.txt": b"caption text\n",
}


@pytest.fixture
def lily(home: Path, tmp_path: Path) -> Path:
    """Profile lily over a Shoots folder of ``FILES``, backed up once (a full run) to a drive
    folder; the Shoots folder."""
    src = tmp_path / "Shoots"
    for rel, data in FILES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    drive = tmp_path / "drive"
    drive.mkdir()
    write_profile(
        home,
        [src],
        [{"name": "drive", "type": "local", "path": str(drive)}],
        retention={"weekly": 1, "monthly": 1},
    )
    assert full(load("lily")).ok
    return src


def test_a_snapshot_as_folders(lily: Path) -> None:
    profile = load("lily")
    top = browse.snapshot_tree(profile, "drive", "latest")
    assert [(e.name, e.kind, e.files) for e in top.entries] == [("Shoots", "folder", len(FILES))]
    assert top.files == len(FILES) and top.bytes == sum(len(d) for d in FILES.values())
    sid = top.snapshot["id"]

    shoots = browse.snapshot_tree(profile, "drive", sid, "Shoots").as_dict()
    assert [(e["name"], e["kind"]) for e in shoots["entries"]] == [
        ("2026", "folder"),
        ("Exports", "folder"),
        ("notes.txt", "file"),
    ]
    [year] = [e for e in shoots["entries"] if e["name"] == "2026"]
    assert year["files"] == 3 and year["size"] == sum(
        len(d) for r, d in FILES.items() if r.startswith("2026/")
    )
    notes = shoots["entries"][-1]
    assert notes["path"] == "Shoots/notes.txt" and notes["size"] == len(FILES["notes.txt"])
    assert len(notes["sha256"]) == 64 and notes["mtime"].endswith("Z")
    assert shoots["parents"] == [{"name": "Shoots", "path": "Shoots"}]

    # a page at a time; a selected file brings its folder and its page
    page = browse.snapshot_tree(profile, "drive", sid, "Shoots/Exports", limit=2, offset=2).as_dict()
    assert [e["name"] for e in page["entries"]] == ["a*b.jpg", "ab.jpg"]
    assert page["total"] == 4 and page["more"] is False
    chosen = browse.snapshot_tree(profile, "drive", sid, select="Shoots/Exports/ab.jpg", limit=3).as_dict()
    assert (
        chosen["path"] == "Shoots/Exports"
        and chosen["offset"] == 3
        and chosen["select"] == "Shoots/Exports/ab.jpg"
    )

    # nothing from outside is taken as it comes
    for bad in ("../../etc", "Shoots/../..", "/etc", "Shoots//2026", "Shoots\\2026"):
        with pytest.raises(UsageError, match="path="):
            browse.snapshot_tree(profile, "drive", sid, bad)
    with pytest.raises(UsageError, match="not a folder"):
        browse.snapshot_tree(profile, "drive", sid, "Shoots/notes.txt")
    with pytest.raises(NothingFound, match="no folder 'Shoots/1999'"):
        browse.snapshot_tree(profile, "drive", sid, "Shoots/1999")
    with pytest.raises(UsageError, match="not a snapshot id"):
        browse.snapshot_tree(profile, "drive", "../../inventory/profile.toml")
    with pytest.raises(NothingFound, match="no snapshot"):
        browse.snapshot_tree(profile, "drive", sid[:8])  # a prefix is not an id here
    with pytest.raises(NothingFound, match="no such target"):
        browse.snapshot_tree(profile, "cloud", sid)
    with pytest.raises(NothingFound, match="select="):
        browse.snapshot_tree(profile, "drive", sid, select="Shoots/none.jpg")


def test_a_restore_lists_conflicts_first_and_overwrites_only_when_asked(lily: Path, tmp_path: Path) -> None:
    profile = load("lily")
    sid = list_ids_of(profile)[-1]
    to = tmp_path / "Restored"
    plan = browse.restore_plan(profile, "drive", sid, ["Shoots/2026"], str(to))
    assert plan.exists is False and plan.files == 3 and plan.write_count == 3 and not plan.conflict_count
    assert not to.exists()  # a plan writes nothing

    done = browse.restore_paths(profile, "drive", sid, ["Shoots/2026"], str(to))
    assert done.ok and done.created and done.as_dict()["restored"] == 3
    want = {f"Shoots/{r}": d for r, d in FILES.items() if r.startswith("2026/")}
    assert tree(to) == want

    # one file changed at the destination: the plan names it, the restore keeps it
    changed = to / "Shoots/2026/March/IMG_0001.jpg"
    changed.write_bytes(b"edited since")
    plan = browse.restore_plan(profile, "drive", sid, ["Shoots/2026"], str(to))
    assert plan.exists and plan.same_count == 2 and plan.write_count == 0
    assert [c["path"] for c in plan.conflicts] == ["Shoots/2026/March/IMG_0001.jpg"]
    assert plan.conflicts[0]["existing_size"] == len(b"edited since") and not plan.ok
    kept = browse.restore_paths(profile, "drive", sid, ["Shoots/2026"], str(to))
    assert not kept.ok and [s["path"] for s in kept.as_dict()["skipped"]] == [
        "Shoots/2026/March/IMG_0001.jpg"
    ]
    assert changed.read_bytes() == b"edited since"

    # with consent it is replaced
    assert browse.restore_plan(profile, "drive", sid, ["Shoots/2026"], str(to), overwrite=True).ok
    replaced = browse.restore_paths(profile, "drive", sid, ["Shoots/2026"], str(to), overwrite=True)
    assert replaced.ok and replaced.as_dict()["restored"] == 1 and replaced.as_dict()["already_there"] == 2
    assert tree(to) == want

    # a whole snapshot ('' is its top)
    everything = tmp_path / "Everything"
    assert browse.restore_paths(profile, "drive", sid, [""], str(everything)).ok
    assert tree(everything) == {f"Shoots/{r}": d for r, d in FILES.items()}


def test_names_with_glob_characters_are_taken_exactly(lily: Path, tmp_path: Path) -> None:
    profile = load("lily")
    sid = list_ids_of(profile)[-1]
    assert browse.exact_glob("Shoots/Exports/[1].jpg") == "Shoots/Exports/[[]1].jpg"
    for name, also_matched_by_glob in (("[1].jpg", "1.jpg"), ("a*b.jpg", "ab.jpg")):
        to = tmp_path / f"one-{name}"
        plan = browse.restore_plan(profile, "drive", sid, [f"Shoots/Exports/{name}"], str(to))
        assert plan.write == [f"Shoots/Exports/{name}"], (name, plan.write)
        done = browse.restore_paths(profile, "drive", sid, [f"Shoots/Exports/{name}"], str(to))
        assert done.ok and tree(to) == {f"Shoots/Exports/{name}": FILES[f"Exports/{name}"]}
        assert not (to / "Shoots/Exports" / also_matched_by_glob).exists()
    with pytest.raises(NothingFound, match="no file or folder"):
        browse.restore_plan(profile, "drive", sid, ["Shoots/Exports/2.jpg"], str(tmp_path / "x"))
    with pytest.raises(UsageError, match="paths"):
        browse.restore_plan(profile, "drive", sid, ["../Shoots"], str(tmp_path / "x"))
    with pytest.raises(UsageError, match="paths"):
        browse.restore_plan(profile, "drive", sid, [], str(tmp_path / "x"))


def test_where_a_restore_may_go(lily: Path, home: Path, tmp_path: Path) -> None:
    profile = load("lily")
    sid = list_ids_of(profile)[-1]
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for to, why in (
        ("", "to: empty"),
        ("Restored", "a relative path"),
        (str(a_file), "is a file"),
        (str(tmp_path / "drive" / "lily" / "back"), "inside target drive"),
        (str(home / "state" / "lily" / "here"), "inside Keepmark's own folder"),
    ):
        with pytest.raises(UsageError, match=why):
            browse.restore_plan(profile, "drive", sid, ["Shoots/notes.txt"], to)
        with pytest.raises(UsageError, match=why):
            browse.check_restore(profile, "drive", sid, ["Shoots/notes.txt"], to)
    # through a symbolic link into the target: still refused
    link = tmp_path / "sneaky"
    link.symlink_to(tmp_path / "drive")
    with pytest.raises(UsageError, match="inside target drive"):
        browse.restore_paths(profile, "drive", sid, ["Shoots/notes.txt"], str(link / "x"))
    assert browse.restore_destination(profile, str(tmp_path / "new" / "deeper")) == (
        tmp_path / "new" / "deeper",
        False,
    )


def test_prune_reports_progress_and_stops_when_cancelled(lily: Path) -> None:
    profile = load("lily")
    for i in range(3):  # three more snapshots, each after a change (its earlier content kept)
        (lily / "notes.txt").write_bytes(f"caption {i}\n".encode())
        time.sleep(0.01)
        assert full(profile).ok
    ids = list_ids_of(profile)
    assert len(ids) == 4

    plan = browse.prune(profile, dry_run=True).as_dict()
    [t] = plan["targets"]
    assert plan["dry_run"] and t["kept"] == [ids[-1]] and t["removed_snapshots"] == ids[:-1]
    assert len(t["removed_versions"]) == 3 and list_ids_of(profile) == ids  # nothing went

    events: list[Event] = []
    progress = Progress(events.append)

    def cancel_after_one(event: Event) -> None:
        if isinstance(event, FileDone):
            progress.cancel.cancel()

    progress = progress.with_listener(cancel_after_one)
    with pytest.raises(Cancelled):
        browse.prune(profile, progress=progress)
    [started] = [e for e in events if isinstance(e, Started)]
    assert started.stage == "prune" and started.files == 6 and started.unit == "files"
    assert len([e for e in events if isinstance(e, FileDone)]) == 1
    assert list_ids_of(profile) == ids[1:]  # one removed, then it stopped

    done = browse.prune(profile).as_dict()
    assert done["ok"] and done["targets"][0]["removed_snapshots"] == ids[1:-1]
    assert list_ids_of(profile) == [ids[-1]]
    with pytest.raises(NothingFound, match="no such target"):
        browse.prune(profile, ["cloud"], dry_run=True)


def test_restore_and_verify_stop_when_cancelled(
    lily: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one file at a time: with a worker per file (8 files, 8 restore workers) every file is
    # already on its way when the first one ends and asks to stop
    monkeypatch.setenv("KEEPMARK_UPLOADS", "1")
    profile = load("lily")
    sid = list_ids_of(profile)[-1]
    events: list[Event] = []
    progress = Progress(events.append)

    def cancel_at_first_file(event: Event) -> None:
        if isinstance(event, FileDone):
            progress.cancel.cancel()

    progress = progress.with_listener(cancel_at_first_file)
    to = tmp_path / "Cut short"
    with pytest.raises(Cancelled):
        browse.restore_paths(profile, "drive", sid, ["Shoots"], str(to), progress=progress)
    [started] = [e for e in events if isinstance(e, Started)]
    assert started.stage == "restore" and started.files == len(FILES)
    restored = tree(to) if to.exists() else {}
    assert len(restored) < len(FILES)  # it stopped: not every file went
    for rel, data in restored.items():  # and what it wrote is whole
        assert data == FILES[rel.removeprefix("Shoots/")]
    assert not [p for p in to.rglob("*") if p.name.endswith(".keepmark-tmp")]  # no temporaries left

    from backup.app.maintenance import verify

    events.clear()
    progress = Progress(events.append).with_listener(cancel_at_first_file)
    with pytest.raises(Cancelled):
        verify(profile, read_data=True, progress=progress)
    assert len([e for e in events if isinstance(e, FileDone)]) == 1


def test_the_backups_view(lily: Path) -> None:
    profile = load("lily")
    view = browse.backups_view(profile).as_dict()
    [t] = view["targets"]
    assert t["name"] == "drive" and t["error"] is None and len(t["snapshots"]) == 1
    assert t["snapshots"][0]["files"] == len(FILES) and t["damaged_copies"] == []
    assert t["state"]["snapshot"] == t["snapshots"][0]["id"] and view["retention"] == {
        "weekly": 1,
        "monthly": 1,
    }
    # a copy found damaged by a verify is offered for repair
    copy = Path(str(profile.targets[0].path)) / "lily" / "originals" / "Shoots" / "notes.txt"
    os.chmod(copy, 0o644)
    copy.write_bytes(b"rotten bytes!")
    from backup.app.maintenance import verify

    assert not verify(profile, read_data=True).ok
    [t] = browse.backups_view(profile).as_dict()["targets"]
    assert [d["path"] for d in t["damaged_copies"]] == ["Shoots/notes.txt"]


def list_ids_of(profile: Profile) -> list[str]:
    [(_, target)] = targets_for(profile, ["drive"])
    assert not isinstance(target, Exception)
    target.open_session()
    try:
        return list_ids(target)
    finally:
        target.close()


# -- the JSON API of a real ``backup ui`` -------------------------------------------------------


@pytest.mark.slow
def test_the_api(lily: Path, home: Path, tmp_path: Path) -> None:
    sid = list_ids_of(load("lily"))[-1]
    with running_ui(home) as ui:
        cookie, csrf = session_of(ui)
        base = f"/api/snapshots/drive/{sid}/tree"

        answer = ui.bearer(base + "?path=Shoots/2026")
        assert answer.status == 200 and answer.header("cache-control") == "no-store", answer
        assert [e["name"] for e in answer.json()["entries"]] == ["April", "March"]
        for bad in ("../../etc", "..%2F..%2Fetc", "%2Fetc"):
            refused = ui.bearer(f"{base}?path={bad}")
            assert refused.status == 400 and refused.json()["ok"] is False, (bad, refused)
            assert "path=" in refused.json()["error"]
        assert ui.bearer(f"/api/snapshots/drive/{sid[:9]}/tree").status == 404
        assert ui.bearer(f"/api/snapshots/cloud/{sid}/tree").status == 404
        assert ui.bearer("/api/snapshots/drive/..%2F..%2Finventory/tree").status in (400, 404)

        to = tmp_path / "ApiRestored"
        ask = {"target": "drive", "snapshot": sid, "paths": ["Shoots/2026/March"], "to": str(to)}
        body = json.dumps(ask)
        headers = {"Cookie": cookie, "Content-Type": "application/json"}
        # a session's POST without its CSRF token is refused before anything runs
        assert ui.request("POST", "/api/restore", headers=headers, body=body).status == 403
        assert ui.request("POST", "/api/restore/plan", headers=headers, body=body).status == 403
        assert ui.request("POST", "/api/prune", headers=headers, body='{"dry_run": false}').status == 403
        assert not to.exists()

        with_csrf = {**headers, "X-CSRF-Token": csrf}
        plan = ui.request("POST", "/api/restore/plan", headers=with_csrf, body=body)
        assert plan.status == 200, plan
        assert plan.json()["write_count"] == 2 and plan.json()["exists"] is False

        started = ui.request("POST", "/api/restore", headers=with_csrf, body=body)
        assert started.status == 202 and started.json()["kind"] == "restore", started
        job = wait_for(ui, started.json()["id"])
        assert job["state"] == "done" and job["result"]["ok"] and job["result"]["created"], job
        assert tree(to) == {f"Shoots/{r}": d for r, d in FILES.items() if r.startswith("2026/March/")}

        escape = json.dumps({**ask, "to": str(home / "state")})
        refused = ui.request("POST", "/api/restore", headers=with_csrf, body=escape)
        assert refused.status == 400 and "inside Keepmark's own folder" in refused.json()["error"]
        assert ui.request("POST", "/api/restore", headers=with_csrf, body="not json").status == 400

        verify = ui.bearer("/api/verify", "POST", body=json.dumps({"read_data": True}))
        assert verify.status == 202, verify
        job = wait_for(ui, verify.json()["id"])
        assert job["state"] == "done" and job["result"]["ok"] and job["files_done"] == len(FILES), job
        bad_sample = ui.bearer("/api/verify", "POST", body=json.dumps({"sample": 0}))
        assert bad_sample.status == 400 and "sample" in bad_sample.json()["error"]

        pruned = ui.bearer("/api/prune", "POST", body=json.dumps({"dry_run": True}))
        assert pruned.status == 200 and pruned.json()["dry_run"] is True, pruned
        assert pruned.json()["targets"][0]["kept"] == [sid]
        assert ui.bearer("/api/prune", "POST", body=json.dumps({"target": "cloud"})).status == 404

        repair = ui.bearer("/api/repair", "POST", body=json.dumps({"target": "drive"}))
        assert repair.status == 202
        job = wait_for(ui, repair.json()["id"])
        assert job["state"] == "done" and job["result"]["targets"][0]["repaired"] == [], job


def wait_for(ui: Ui, job_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = ui.bearer("/api/jobs").json()["jobs"]
        [job] = [j for j in jobs if j["id"] == job_id]
        if job["state"] != "running":
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout} s")
