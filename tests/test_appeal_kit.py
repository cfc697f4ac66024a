"""``backup appeal-kit``: one folder (and the same zipped) with the account's facts, the inventory
as CSV, the publications, a timeline, the signed checkpoints with their trusted timestamps, and
VERIFY.txt, whose openssl commands, run exactly as written, pass on the kit and fail once a
sealed byte changes."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import tomllib

from backup.proof.verifytext import commands
from tests.conftest import run_backup
from tests.kit.hashing import file_sha256
from tests.kit.photos import photo_paths
from tests.kit.tsa import LocalTSA


def run_commands(folder: Path) -> list[tuple[str, int, str]]:
    """Each command of the folder's VERIFY.txt, run with bash in the folder: (command, exit code,
    what it printed)."""
    out = []
    for command in commands((folder / "VERIFY.txt").read_text(encoding="utf-8")):
        r = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True, timeout=60)
        out.append((command, r.returncode, r.stdout + r.stderr))
    return out


def rows(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def account(home: Path, sources: Path, tsa: LocalTSA, cli: Any) -> dict[str, Any]:
    """Profile lily, in Chinese, over three real photos and a caption, with the local timestamp
    authority; recorded (a timestamped checkpoint) and one photo published."""
    photos = []
    for src in photo_paths()[:3]:
        dst = sources / "2026-05" / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        photos.append(dst)
    (sources / "2026-05" / "caption.txt").write_text("海边的一天", encoding="utf-8")
    r = cli(
        "init", "lily", "--account", "Lily Chen", "--handle", "lily.shoots", "--source", str(sources),
        "--tsa", tsa.url, "--tsa-certificate", str(tsa.ca_pem),
    )  # fmt: skip
    assert r.code == 0, r
    path = home / "profiles" / "lily.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["account"]["language"] = "zh"
    doc["proof"]["contact_email"] = "lily@example.com"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    assert cli("inventory", "scan", "-p", "lily").code == 0
    url = "https://www.xiaohongshu.com/explore/6650a1"
    r = cli("publish", "add", str(photos[1]), "--platform", "小红书", "--url", url, "--date", "2026-05-20")
    assert r.code == 0, r
    return {"photos": photos, "url": url, "sources": sources}


def test_the_kit_lists_every_original_and_publication_and_verifies_with_openssl(
    account: dict[str, Any], tmp_path: Path, cli: Any
) -> None:
    out = tmp_path / "申诉材料"
    r = cli("appeal-kit", "-p", "lily", "--out", str(out), "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["lang"] == "zh" and doc["originals"] == 3 and doc["publications"] == 1
    assert doc["timestamped"] >= 1 and doc["checkpoints"] >= doc["timestamped"]
    assert Path(doc["zip"]) == tmp_path / "申诉材料.zip"

    inventory = rows(out / "inventory.csv")
    listed = {row["path"] for row in inventory}
    assert {str(p) for p in account["photos"]} <= listed and len(listed) == 4
    assert {row["sha256"] for row in inventory} >= {file_sha256(p) for p in account["photos"]}
    [pub] = rows(out / "publications.csv")
    assert (pub["platform"], pub["url"], pub["date"]) == ("小红书", account["url"], "2026-05-20")
    assert pub["sha256"] == file_sha256(account["photos"][1])
    timeline = rows(out / "timeline.csv")
    events = [t["event"] for t in timeline]
    assert events.count("首次记录") == 3 and events.count("发布") == 1
    assert next(t for t in timeline if t["event"] == "发布")["url"] == account["url"]
    assert [t["time"] for t in timeline] == sorted(t["time"] for t in timeline)
    facts = __import__("json").loads((out / "account.json").read_text(encoding="utf-8"))
    assert facts["account"] == {"name": "Lily Chen", "handle": "lily.shoots"}
    assert facts["contact"]["email"] == "lily@example.com" and facts["platforms"] == ["小红书"]
    letter = (out / "letter.txt").read_text(encoding="utf-8")
    assert "账号申诉" in letter and "@lily.shoots" in letter and "lily@example.com" in letter
    assert "[待填写]" in letter and "VERIFY.txt" in letter
    assert (out / "VERIFY.txt").read_text(encoding="utf-8").startswith("Keepmark 账号申诉材料")

    ran = run_commands(out)
    assert any("ts -verify" in c for c, _, _ in ran)  # the timestamp is checked too
    assert [(c, code) for c, code, _ in ran if code != 0] == [], ran

    # the zip holds the same folder, and the commands hold there too
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(doc["zip"]) as z:
        z.extractall(unzipped)
    inside = unzipped / "申诉材料"
    for name in doc["files"]:
        assert (inside / name).read_bytes() == (out / name).read_bytes(), name
    assert all(code == 0 for _, code, _ in run_commands(inside))

    # the letter is the creator's to fill in: editing it breaks nothing
    with open(out / "letter.txt", "a", encoding="utf-8") as f:
        f.write("签名：陈莉莉\n")
    assert all(code == 0 for _, code, _ in run_commands(out))


@pytest.mark.parametrize("name", ["inventory.csv", "timeline.csv", "proof/checkpoint", "token"])
def test_a_changed_byte_fails_the_commands(
    account: dict[str, Any], tmp_path: Path, cli: Any, name: str
) -> None:
    out = tmp_path / "kit"
    assert cli("appeal-kit", "-p", "lily", "--out", str(out), "--lang", "en").code == 0
    if name == "token":
        target = next(out.glob("proof/*.tsr"))
    elif name == "proof/checkpoint":
        target = next(out.glob("proof/checkpoint-*.signed"))
    else:
        target = out / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    failed = [c for c, code, _ in run_commands(out) if code != 0]
    assert "sha256sum -c SHA256SUMS" in failed
    if name == "token":
        assert any("ts -verify" in c for c in failed)
    if name == "proof/checkpoint":
        assert any("pkeyutl -verify" in c and ".signed" in c for c in failed)


def test_what_is_refused(account: dict[str, Any], home: Path, tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "kit"
    assert cli("appeal-kit", "-p", "lily", "--out", str(out)).code == 0
    again = cli("appeal-kit", "-p", "lily", "--out", str(out))
    assert again.code == 2 and str(out) in again.err and len(again.err.strip().splitlines()) == 1
    bad = cli("appeal-kit", "-p", "lily", "--out", str(tmp_path / "other"), "--lang", "fr")
    assert bad.code == 2 and "--lang" in bad.err and not (tmp_path / "other").exists()
    r = cli(
        "init", "mia", "--account", "Mia", "--handle", "mia", "--source", str(account["sources"]), "--no-tsa"
    )
    assert r.code == 0, r
    empty = cli("appeal-kit", "-p", "mia", "--out", str(tmp_path / "mia"))
    assert empty.code == 1 and "inventory scan" in empty.err and not (tmp_path / "mia").exists()
    assert not list(tmp_path.glob(".kit.*")) and not list(tmp_path.glob(".mia.*"))  # nothing half-written


def test_run_as_a_new_user_runs_it(account: dict[str, Any], tmp_path: Path) -> None:
    """The default folder is in the current one, named after the profile and the day."""
    r = run_backup("appeal-kit", "-p", "lily", cwd=tmp_path)
    assert r.code == 0, r
    [folder] = [p for p in tmp_path.glob("appeal-kit-lily-*") if p.is_dir()]
    assert (tmp_path / f"{folder.name}.zip").is_file() and "VERIFY.txt" in r.out
