"""Two source folders that share a name (``~/Pictures/Exports``, ``~/Movies/Exports``) are
accepted and kept apart: on the targets, in the stamped copies' folder and in a restore; the
label each got is kept when the list of folders changes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import tomli_w

from backup.profile.load import toml_loads
from inventory.store.inventory import Inventory
from tests.kit.media import jpeg


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_source_folders_that_share_a_name_are_kept_apart(home: Path, tmp_path: Path, cli: Any) -> None:
    pictures = tmp_path / "Pictures" / "Exports"
    movies = tmp_path / "Movies" / "Exports"
    jpeg(pictures / "a.jpg", seed=1)
    jpeg(movies / "a.jpg", seed=2)
    assert sha(pictures / "a.jpg") != sha(movies / "a.jpg")
    drive, out = tmp_path / "drive", tmp_path / "Stamped"
    drive.mkdir()
    made = cli(
        "init", "lily", "--account", "Lily Chen", "--handle", "lily.shoots",
        "--source", str(pictures), "--source", str(movies), "--target", str(drive), "--output", str(out),
    )  # fmt: skip
    assert made.code == 0, made
    assert cli("profile", "check", "-p", "lily").code == 0

    run = cli("full", "-p", "lily", "--json")
    assert run.code == 0, run
    stored = drive / "lily" / "originals"
    assert sha(stored / "Exports" / "a.jpg") == sha(pictures / "a.jpg")
    assert sha(stored / "Exports (Movies)" / "a.jpg") == sha(movies / "a.jpg")

    stamped = cli("stamp", "-p", "lily", "--json")
    assert stamped.code == 0, stamped
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.jpg")) == [
        "Exports (Movies)/a.jpg",
        "Exports/a.jpg",
    ]

    back = tmp_path / "restored"
    restored = cli("restore", "-p", "lily", "--target", "drive", "--to", str(back))  # init names it
    assert restored.code == 0, restored
    assert sha(back / "Exports" / "a.jpg") == sha(pictures / "a.jpg")
    assert sha(back / "Exports (Movies)" / "a.jpg") == sha(movies / "a.jpg")

    # The folders listed the other way round, and a third of that name added: what is on the
    # target and in the output folder stays where it is, nothing is uploaded or stamped again.
    other = tmp_path / "Desktop" / "Movies" / "Exports"
    jpeg(other / "b.jpg", seed=3)
    file = home / "profiles" / "lily.toml"
    doc = toml_loads(file.read_text(encoding="utf-8"))
    doc["sources"]["folders"] = [str(movies), str(pictures), str(other)]
    file.write_text(tomli_w.dumps(doc), encoding="utf-8")
    again = cli("incremental", "-p", "lily", "--json")
    assert again.code == 0, again
    [target] = again.json()["targets"]
    assert target["files"] == 1 and target["versions"] == 0, target  # only the new folder's photo
    assert sha(stored / "Exports (Desktop Movies)" / "b.jpg") == sha(other / "b.jpg")
    assert sha(stored / "Exports" / "a.jpg") == sha(pictures / "a.jpg")
    assert not (drive / "lily" / "versions").exists() or not any((drive / "lily" / "versions").rglob("*.*"))
    restamped = cli("stamp", "-p", "lily", "--json")
    assert [Path(s["output"]).relative_to(out).as_posix() for s in restamped.json()["stamped"]] == [
        "Exports (Desktop Movies)/b.jpg"
    ], restamped.out


def test_labels_are_given_once_and_kept(tmp_path: Path) -> None:
    pictures, movies = "/u/lily/Pictures/Exports", "/u/lily/Movies/Exports"
    with Inventory.open(tmp_path / "inventory.sqlite") as inv:
        looked = inv.source_labels([movies, pictures], keep=False)
        assert looked == {movies: "Exports", pictures: "Exports (Pictures)"}
        # Only looked at: nothing recorded, so the order still decides.
        given = inv.source_labels([pictures, movies])
        assert given == {pictures: "Exports", movies: "Exports (Movies)"}
        # Given once, kept whatever the order; a third gets more of its path, names ignore case.
        third = "/u/work/Movies/exports"
        assert inv.source_labels([third, movies, pictures]) == {
            third: "exports (work Movies)",
            movies: "Exports (Movies)",
            pictures: "Exports",
        }
        # A name taken, then its parents' too: a number.
        inv.source_labels(["/x/Shoots", "/y/Shoots (x)"])
        assert inv.source_labels(["/X/Shoots"]) == {"/X/Shoots": "Shoots (2)"}
    with Inventory.open(tmp_path / "inventory.sqlite") as inv:
        assert inv.source_labels([movies]) == {movies: "Exports (Movies)"}
