"""The README, run. Every command of its ``sh`` blocks (and its Python example) in the order it
shows them to a new user, as that user would run them: a real ``backup`` process, a fresh
KEEPMARK_HOME, a fresh home folder (``~``), photos, a video and captions made on the spot. The
README's paths become temporary ones (``~`` the test's home folder, ``/Volumes/Backup`` a
folder of the test); its S3 bucket and rclone remote are served on 127.0.0.1 (moto's server,
``rclone serve webdav``), reached through the environment a user would set (the AWS endpoint
variable, RCLONE_CONFIG), so the commands run exactly as written. Each command's effect is
checked (exit code, the files it wrote, what it printed), and a command edited into one that
does not work fails here.

Commands that install software or measure for minutes are not run; each is listed below with
the reason (``test_readme_command_not_run`` reports them as skipped)."""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from backup import __version__  # the version pyproject.toml gives the distribution
from backup.profile.load import toml_loads
from tests.backupkit import tree
from tests.conftest import REPO, Result, run_backup
from tests.daemonkit import (
    Watch,
    daemon_runs,
    derivative_count,
    ledger_types,
    recorded_paths,
    wait_for,
    wait_idle,
)
from tests.kit import media
from tests.kit.hashing import file_sha256
from tests.kit.rclone import RcloneRemotes
from tests.kit.readme import Step, readme_steps
from tests.kit.s3 import S3Server
from tests.kit.tools import fake_tool

README = REPO / "README.md"
PROFILE = "lily"


# -- the README's commands ----------------------------------------------------------------------


def not_run(step: Step) -> str | None:
    """Why a README command is not run by the suite (None: it is run)."""
    argv, prog = step.argv, Path(step.argv[0]).name if step.argv else ""
    if prog.startswith("python") and argv[1:3] == ("-m", "venv"):
        return "makes a virtual environment: the suite already runs in one"
    if prog in ("pip", "pipx", "uv"):
        return "installs from PyPI: needs the network"
    if prog == "bash" and argv[1:2] == (".ci/system-deps",):
        return "installs system packages through the system's package manager"
    if prog.startswith("python") and argv[1:3] == ("-m", "pytest"):
        return "the test suite itself"
    if prog.startswith("python") and len(argv) > 1 and argv[1].startswith("bench/"):
        return "a benchmark: minutes of measuring on a quiet machine, run by hand"
    if prog == "curl" and any("/api/" in a for a in argv):
        return "a script calling the app's API: tests/test_cases.py sends the same request to a running `backup ui`"
    return None


STEPS = readme_steps(README.read_text(encoding="utf-8"))


# -- the user's world ---------------------------------------------------------------------------


@dataclass
class World:
    """The new user's machine: home folder, Keepmark home, drive, S3 bucket and rclone remote
    of the test, and the files made on the spot."""

    tmp: Path
    home: Path  # KEEPMARK_HOME
    s3: S3Server
    rclone_dir: Path  # the folder on disk behind the remote gdrive:
    bin: Path  # stand-ins for systemctl, launchctl, notify-send
    env: dict[str, str] = field(default_factory=dict)
    originals: list[Path] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)  # target name -> type, from the profile

    @property
    def user(self) -> Path:
        return self.tmp / "user"

    @property
    def drive(self) -> Path:
        return self.tmp / "Volumes" / "Backup"

    @property
    def stamped(self) -> Path:
        """Where ``backup stamp`` puts copies: the ``--output`` the README's ``backup init`` gives."""
        return self.user / "Pictures" / "Stamped"

    @property
    def state(self) -> Path:
        return self.home / "state" / PROFILE

    def places(self) -> list[tuple[str, Path]]:
        """The README's paths, and where they are in this test."""
        return [("~", self.user), ("/Volumes/Backup", self.drive)]

    def substitute(self, word: str) -> str:
        for readme, here in self.places():
            if word == readme or word.startswith(readme + "/"):
                return str(here) + word[len(readme) :]
        return word

    def run(self, argv: list[str], cwd: Path | None = None) -> Result:
        """``backup ARGV`` in a terminal opened in the home folder (or in ``cwd``)."""
        return run_backup(*argv, env=self.env, cwd=cwd or self.user)

    def rel(self, path: Path) -> str:
        """A source file's path as the targets store it: the source folder's name, then the rest."""
        for folder in (self.user / "Pictures" / "Shoots", self.user / "Movies" / "Exports"):
            if path.is_relative_to(folder):
                return f"{folder.name}/{path.relative_to(folder).as_posix()}"
        raise AssertionError(f"{path} is in no source folder")

    def on_target(self, name: str) -> dict[str, bytes]:
        """Everything a target holds for the profile: {key under <root>/<profile>/: bytes}."""
        kind = self.targets[name]
        if kind == "local":
            return tree(self.drive / PROFILE)
        if kind == "rclone":
            return tree(self.rclone_dir / PROFILE)
        assert kind == "s3", kind
        client, prefix = self.s3.client, f"keepmark/{PROFILE}/"
        keys = [k for k in self.s3.object_keys("lily-backups") if k.startswith(prefix)]
        return {
            k[len(prefix) :]: client.get_object(Bucket="lily-backups", Key=k)["Body"].read() for k in keys
        }

    def make_files(self) -> None:
        shoots, exports = self.user / "Pictures" / "Shoots", self.user / "Movies" / "Exports"
        self.originals = [
            media.jpeg(shoots / "2026" / "sunset.jpg", (1200, 900), seed=11),
            media.heic(shoots / "2026" / "IMG_0412.HEIC", (800, 600), seed=12),
            media.jpeg(shoots / "2025" / "IMG_0001.jpg", (640, 480), seed=13),
            media.video(exports / "reel.mp4", seconds=1.0),
        ]
        caption = shoots / "2026" / "caption.txt"
        caption.write_text("Golden hour at the pier. #sunset", encoding="utf-8")
        self.originals.append(caption)
        # A repost of the sunset, found online: half the size, recompressed.
        with Image.open(self.originals[0]) as im:
            repost = self.user / "Downloads" / "repost.jpg"
            repost.parent.mkdir(parents=True)
            im.resize((im.width // 2, im.height // 2)).save(repost, quality=45)


@pytest.fixture
def world(
    tmp_path: Path,
    home: Path,
    s3_server: S3Server,
    rclone_servers: RcloneRemotes,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    s3_server.make_bucket("lily-backups")  # made by the user in the provider's console
    # rclone.conf with the remote the README names: gdrive, here a WebDAV server on 127.0.0.1.
    sub = f"t-{secrets.token_hex(5)}"
    config = tmp_path / "rclone.conf"
    config.write_text(
        rclone_servers.config_path.read_text() + f"\n[gdrive]\ntype = alias\nremote = webdav:{sub}\n"
    )
    w = World(
        tmp=tmp_path,
        home=home,
        s3=s3_server,
        rclone_dir=rclone_servers.folder(f"webdav:{sub}") / "Keepmark",
        bin=tmp_path / "bin",
    )
    for tool in ("systemctl", "launchctl", "notify-send"):
        fake_tool(w.bin, tool)
    (tmp_path / "tmp").mkdir()
    w.drive.mkdir(parents=True)  # the external drive, connected
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    w.env = {
        "HOME": str(w.user),
        "AWS_ENDPOINT_URL_S3": s3_server.endpoint,
        "RCLONE_CONFIG": str(config),
        "TMPDIR": str(tmp_path / "tmp"),
        "PATH": f"{w.bin}{os.pathsep}{os.environ['PATH']}",
    }
    w.make_files()
    return w


# -- what each command must do ------------------------------------------------------------------


def check_demo(w: World, argv: list[str]) -> None:
    before = tree(w.user)
    r = w.run(argv)
    assert r.code == 0, r
    found = re.search(r"^Sample workspace: (.+)$", r.out, re.M)
    assert found, r
    workspace = Path(found.group(1))
    # Everything in a new temporary folder; nothing else touched.
    assert workspace.parent == w.tmp / "tmp" and os.listdir(w.tmp / "tmp") == [workspace.name]
    assert not w.home.exists() and tree(w.user) == before
    for name in ("report.html", "notice.txt", "evidence.json"):
        assert (workspace / "Evidence" / name).is_file(), name
    assert list((workspace / "Backup Drive").rglob("snapshots/*-full-*.json"))
    assert list((workspace / "Stamped").rglob("*.jpg"))
    assert "every byte matches" in r.out and "Proved:" in r.out


def check_version(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert r.code == 0 and r.out.strip() == f"backup (Keepmark) {__version__}", r


def values(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == option]


def check_init(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert r.code == 0, r
    doc = toml_loads((w.home / "profiles" / f"{PROFILE}.toml").read_text(encoding="utf-8"))
    assert doc["account"] == {"name": values(argv, "--account")[0], "handle": values(argv, "--handle")[0]}
    assert doc["sources"]["folders"] == values(argv, "--source")
    specs = values(argv, "--target")
    assert len(doc["targets"]) == len(specs)
    for spec, t in zip(specs, doc["targets"], strict=True):
        if spec.startswith("s3://"):
            bucket, _, prefix = spec.removeprefix("s3://").partition("/")
            assert (t["type"], t["bucket"], t["prefix"]) == ("s3", bucket, prefix)
        elif spec.startswith("rclone:"):
            assert (t["type"], t["remote"]) == ("rclone", spec.removeprefix("rclone:"))
        else:
            assert (t["type"], t["path"]) == ("local", spec)
        w.targets[t["name"]] = t["type"]
    assert sorted(w.targets.values()) == ["local", "rclone", "s3"]  # every kind, on this machine


def check_profile_check(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert r.code == 0, r
    assert f"{w.home / 'profiles' / 'lily.toml'}: OK" in r.out, r


def check_scan(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert r.code == 0, r
    assert recorded_paths(w.home) == {str(p) for p in w.originals}
    assert f"{len(w.originals)} new" in r.out, r


def check_list(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert len(lines) == len(w.originals), r
    for p in w.originals:
        assert any(line.startswith(file_sha256(p)[:12]) and line.endswith(str(p)) for line in lines), p


def check_show(w: World, argv: list[str]) -> None:
    shown = next(p for p in w.originals if str(p) == argv[2])
    r = w.run(argv)
    assert r.code == 0, r
    assert f"SHA-256:      {file_sha256(shown)}" in r.out and str(shown) in r.out, r
    assert "Kind:         image (heic)" in r.out, r


def ledger(w: World, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{w.state / 'inventory.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def check_ledger_verify(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert r.code == 0, r
    count, head = ledger(
        w, "SELECT count(*), (SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1) FROM ledger"
    )[0]
    assert f"Ledger intact: {count:,} entries, head {head}" in r.out, r


def check_stamp(w: World, argv: list[str]) -> None:
    before = {p: file_sha256(p) for p in w.originals}
    r = w.run(argv)
    assert r.code == 0, r
    made = sorted(p.relative_to(w.stamped).as_posix() for p in w.stamped.rglob("*") if p.is_file())
    assert made == sorted(w.rel(p) for p in w.originals if p.suffix != ".txt")
    assert {p: file_sha256(p) for p in w.originals} == before  # the originals are never touched
    assert derivative_count(w.home) == len(made)


def check_backup(w: World, argv: list[str]) -> None:
    kind = argv[0]
    if kind == "incremental":  # a week later: a new photo
        w.originals.append(media.jpeg(w.user / "Pictures" / "Shoots" / "2026" / "IMG_0413.jpg", seed=14))
    r = w.run(argv)
    assert r.code == 0, r
    for name in w.targets:
        held = w.on_target(name)
        for p in w.originals:
            assert held.get(f"originals/{w.rel(p)}") == p.read_bytes(), (name, p)
        snapshots = [k for k in held if k.startswith("snapshots/") and k.endswith(".json")]
        assert sum(f"-{kind}-" in k for k in snapshots) == 1, (name, snapshots)
        newest = json.loads(held[max(snapshots)])
        assert {e["path"] for e in newest["files"]} == {w.rel(p) for p in w.originals}, name


def check_verify(w: World, argv: list[str]) -> None:
    """The README promises every byte read back and checked: a changed byte is found."""
    copy = w.drive / PROFILE / "originals" / w.rel(w.originals[0])
    good = copy.read_bytes()
    copy.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one changed byte on the drive
    r = w.run(argv)
    assert r.code == 1 and w.rel(w.originals[0]) in r.out + r.err, r
    copy.write_bytes(good)
    r = w.run(argv)
    assert r.code == 0, r


def check_restore(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert r.code == 0, r
    assert w.targets[values(argv, "--target")[0]] == "local"
    include = values(argv, "--include")[0]
    wanted = {w.rel(p): p.read_bytes() for p in w.originals if w.rel(p).startswith(include + "/")}
    assert len(wanted) >= 3  # the photos of 2026, not those of 2025 or the exports
    assert tree(Path(values(argv, "--to")[0])) == wanted


def check_watch(w: World, argv: list[str]) -> None:
    pictures = [p for p in w.originals if p.suffix != ".txt"]
    with Watch(w.home, w.env, argv=argv) as daemon:
        passes = wait_idle(w.home)
        # What arrived while it was not running (the incremental's new photo) is stamped now.
        assert derivative_count(w.home) == len(pictures)
        assert all((w.stamped / w.rel(p)).is_file() for p in pictures)
        new = media.jpeg(w.user / "Pictures" / "Shoots" / "2026" / "IMG_0414.jpg", seed=15)
        wait_for(lambda: derivative_count(w.home) > len(pictures), 60, "the new photo stamped")
        wait_idle(w.home, after=passes)
        code = daemon.terminate()
    assert code == 0, daemon.text()
    assert str(new) in recorded_paths(w.home)
    assert (w.stamped / w.rel(new)).is_file() and derivative_count(w.home) == len(pictures) + 1
    assert daemon_runs(w.home) == []  # the full and incremental run by hand count: none was due
    w.originals.append(new)


def check_service_install(w: World, argv: list[str]) -> None:
    if sys.platform == "darwin":
        service = w.user / "Library" / "LaunchAgents" / "com.keepmark.lily.plist"
        tool, expect_calls = "launchctl", ["bootstrap"]
    else:
        service = w.user / ".config" / "systemd" / "user" / "keepmark-lily.service"
        tool, expect_calls = (
            "systemctl",
            ["--user daemon-reload", "--user enable --now keepmark-lily.service"],
        )
    calls = w.bin / f"{tool}.calls"

    def called() -> list[str]:
        return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []

    if "--dry-run" in argv:
        before, ran = (service.read_bytes() if service.exists() else None), called()
        r = w.run(argv)
        assert r.code == 0 and " -m backup watch -p " in r.out, r
        assert (service.read_bytes() if service.exists() else None) == before and called() == ran
        return
    r = w.run(argv)
    assert r.code == 0, r
    if sys.platform.startswith("linux"):
        text = service.read_text(encoding="utf-8")
        assert "ExecStart=" in text and f" -m backup watch -p {w.home / 'profiles' / 'lily.toml'}" in text
        assert f"Environment=KEEPMARK_HOME={w.home}" in text
        assert called() == expect_calls
    elif sys.platform == "darwin":
        assert service.exists() and called() and called()[0].startswith(expect_calls[0])


def check_status(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    assert r.code == 0, r
    assert "daemon: not running" in r.out, r
    for name in w.targets:
        newest = max(k for k in w.on_target(name) if k.startswith("snapshots/") and k.endswith(".json"))
        assert f"target {name}: {Path(newest).stem} " in r.out, (name, r)
    assert "1 originals not yet on every target" in r.out, r  # the photo the daemon recorded


def check_ui(w: World, argv: list[str]) -> None:
    """``backup ui`` as written: its first line is the link, the browser ($BROWSER, a stand-in)
    is sent there, the link signs in once, its key serves the API, and Ctrl-C's SIGTERM ends it."""
    import http.client
    import signal

    opened = fake_tool(w.bin, "browser")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backup", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **w.env, "BROWSER": str(w.bin / "browser")},
        cwd=w.user,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url, url
        port, token = int(url.split(":")[2].split("/")[0]), url.split("token=")[1]
        wait_for(lambda: opened.exists() and url in opened.read_text(), 30, "the browser sent to the link")

        def get(path: str, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            found = r.status, r.read(), r.getheader("set-cookie")
            conn.close()
            return found

        status, _body, cookie = get("/?token=" + token, {})
        assert status == 303 and cookie and "HttpOnly" in cookie
        assert get("/?token=" + token, {})[0] == 401  # once
        status, body, _ = get("/api/status", {"Authorization": f"Bearer {token}"})
        theirs = w.run(["status", "--json"]).json()
        ours = json.loads(body)
        for doc in (ours, theirs):
            for t in doc["targets"]:
                t.pop("age_seconds")
        assert status == 200 and ours == theirs
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""


def check_check(w: World, argv: list[str]) -> None:
    r = w.run(argv)
    grade = re.search(rf"^{PROFILE}: (EXCELLENT|PASS|HIGH-RISK)$", r.out, re.M)
    assert grade, r
    assert r.code == (1 if grade.group(1) == "HIGH-RISK" else 0), r
    assert "Object Lock" in r.out, r  # the cloud target has none: a finding with its fix


def check_publish_add(w: World, argv: list[str]) -> None:
    posted = Path(argv[2])
    assert posted.is_relative_to(w.stamped) and posted.is_file()  # the stamped copy that was posted
    r = w.run(argv)
    assert r.code == 0, r
    assert ledger_types(w.home).get("publication") == 1
    (data,) = ledger(w, "SELECT data FROM ledger WHERE type = 'publication'")[0]
    entry = json.loads(str(data))
    for value in (values(argv, "--url")[0], values(argv, "--platform")[0], values(argv, "--date")[0]):
        assert value in json.dumps(entry), (value, entry)


def check_appeal_kit(w: World, argv: list[str]) -> None:
    folder = Path(values(argv, "--out")[0])
    folder.parent.mkdir(parents=True, exist_ok=True)  # a new user's Desktop
    r = w.run(argv)
    assert r.code == 0, r
    assert folder.with_name(folder.name + ".zip").is_file()
    from backup.proof.verifytext import commands

    letter = (folder / "letter.txt").read_text(encoding="utf-8")
    assert ("账号申诉" if "zh" in argv else "ACCOUNT APPEAL") in letter
    for command in commands((folder / "VERIFY.txt").read_text(encoding="utf-8")):
        done = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


def check_prove(w: World, argv: list[str]) -> None:
    if "--verify" in argv:
        bundle = Path(values(argv, "--verify")[0])
        r = w.run(argv)
        assert r.code == 0 and f"Evidence holds: {bundle}" in r.out, r
        suspect = next(p for p in bundle.iterdir() if p.suffix == ".jpg")
        good = suspect.read_bytes()
        suspect.write_bytes(good + b"\0")  # a bundle altered after it was written
        r = w.run(argv)
        assert r.code == 1 and "does not hold" in r.err, r
        suspect.write_bytes(good)
        return
    original = w.originals[0]
    bundle = Path(values(argv, "--out")[0])
    # --out is a new or empty folder in a folder that exists (an unknown parent is refused, exit
    # 2): the README's example is run by a user who keeps an Evidence folder.
    bundle.parent.mkdir(parents=True, exist_ok=True)
    if "--zip" in argv:  # the same bundle as one zip beside the folder, holding one folder
        zipped = bundle if bundle.suffix == ".zip" else bundle.with_name(bundle.name + ".zip")
        assert not zipped.exists()
        r = w.run(argv)
        assert r.code == 0 and zipped.is_file(), r
        bundle = w.tmp / "unzipped"
        with zipfile.ZipFile(zipped) as z:
            tops = {name.split("/")[0] for name in z.namelist()}
            assert tops == {zipped.stem}, tops
            z.extractall(bundle)
        bundle = bundle / zipped.stem
        assert w.run(["prove", "--verify", str(zipped)]).code == 0
    else:
        r = w.run(argv)
        assert r.code == 0, r
    assert re.search(rf"^Match \(\w+, .*\): {re.escape(str(original))}$", r.out, re.M), r
    names = {p.name for p in bundle.iterdir()}
    assert {"report.html", "notice.txt", "evidence.json", "VERIFY.txt", "SHA256SUMS"} <= names, names
    if "zh" in values(argv, "--lang"):
        assert '<html lang="zh-CN">' in (bundle / "report.html").read_text(encoding="utf-8")
        assert "侵权投诉通知书" in (bundle / "notice.txt").read_text(encoding="utf-8")
    from backup.proof.verifytext import commands

    for command in commands((bundle / "VERIFY.txt").read_text(encoding="utf-8")):
        done = subprocess.run(["bash", "-c", command], cwd=bundle, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    evidence = (bundle / "evidence.json").read_text(encoding="utf-8")
    assert json.loads(evidence)["match"]["sha256"] == file_sha256(original)
    assert values(argv, "--url")[0] in evidence and "instagram.com" in evidence  # the repost, the post


def check_checkpoint(w: World, argv: list[str]) -> None:
    folder = w.state / "proof" / "checkpoints"
    before = set(folder.glob("*.json"))
    r = w.run(argv)
    assert r.code == 0, r
    new = set(folder.glob("*.json")) - before
    # The ledger's head is signed now, or was already (the publication signed it).
    assert len(new) == (0 if "already covers the head" in r.out else 1), (new, r)
    count, head = ledger(
        w, "SELECT count(*), (SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1) FROM ledger"
    )[0]
    newest = json.loads(max(folder.glob("*.json")).read_text(encoding="utf-8"))
    assert (newest["entries"], newest["head"]) == (count, head), newest


def check_python(w: World, code: str) -> None:
    """The library example: run with the README's file names pointing at this profile's."""
    repost = w.user / "Downloads" / "repost.jpg"
    code = code.replace('"inventory.sqlite"', repr(str(w.state / "inventory.sqlite")))
    code = code.replace('"stolen.jpg"', repr(str(repost)))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=w.tmp, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    match = ast.literal_eval(proc.stdout.strip())
    assert match["sha256"] == file_sha256(w.originals[0]) and match["path"] == str(w.originals[0])
    assert match["method"] in ("exact", "perceptual", "features") and 0 < match["confidence"] <= 1


CHECKS: dict[str, Callable[[World, list[str]], None]] = {
    "demo": check_demo,
    "--version": check_version,
    "init": check_init,
    "profile check": check_profile_check,
    "inventory scan": check_scan,
    "inventory list": check_list,
    "inventory show": check_show,
    "ledger verify": check_ledger_verify,
    "stamp": check_stamp,
    "full": check_backup,
    "incremental": check_backup,
    "verify": check_verify,
    "restore": check_restore,
    "watch": check_watch,
    "service install": check_service_install,
    "status": check_status,
    "check": check_check,
    "ui": check_ui,
    "publish add": check_publish_add,
    "appeal-kit": check_appeal_kit,
    "prove": check_prove,
    "ledger checkpoint": check_checkpoint,
}


# -- the tests ----------------------------------------------------------------------------------


def test_every_readme_command_is_run_or_has_a_reason() -> None:
    assert len(STEPS) > 30
    for step in STEPS:
        if step.code or not_run(step):
            continue
        assert Path(step.argv[0]).name == "backup", f"README runs {step.text!r}: run it here or say why not"
        assert step.key in CHECKS, f"README runs `{step.text}`: add a check of what it does"


@pytest.mark.parametrize("step", [s for s in STEPS if not_run(s)], ids=lambda s: s.text[:60])
def test_readme_command_not_run(step: Step) -> None:
    pytest.skip(f"`{step.text}` ({step.section}): {not_run(step)}")


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="POSIX paths and signals")
def test_the_readme_as_a_new_user_runs_it(world: World) -> None:
    ran = []
    for step in STEPS:
        if step.code:
            check_python(world, step.code)
        elif not_run(step):
            continue
        else:
            argv = [world.substitute(a) for a in step.argv[1:]]
            try:
                CHECKS[step.key](world, argv)
            except AssertionError as exc:
                raise AssertionError(f"README, {step.section}: `{step.text}`\n{exc}") from exc
        ran.append(step.key)
    assert len(ran) == len([s for s in STEPS if not not_run(s)])
    assert {"init", "full", "restore", "watch", "prove", "```python"} <= set(ran)
