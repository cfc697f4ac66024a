"""The first-run setup in a real browser, end to end, as a creator who has never opened a
terminal goes through it: a fresh Keepmark home and a home folder with photos; the account with
a Chinese handle (and an emoji); folders chosen among the suggestions and through the folder
picker; a drive folder and a new rclone WebDAV remote (``rclone serve webdav`` on 127.0.0.1)
added and tried; the schedule; then the profile written, the service installed (systemctl is a
stand-in) and the first full backup run to its end. Each step is checked by what it really did:
the profile's file, the files on the drive and on the remote, the service file."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from backup.profile.load import toml_loads
from tests.backupkit import tree
from tests.browserkit import chromium, shot, ui_server
from tests.kit.media import jpeg
from tests.kit.rclone import RcloneRemotes
from tests.kit.tools import fake_tool
from tests.kit.tsa import LocalTSA

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

WAIT = 30_000  # ms: generous, for a loaded CI machine (no test asserts how long anything takes)
JOB_WAIT = 180_000  # ms: the first full backup, to a drive and a WebDAV remote


def pick(page: Page, *names: str) -> None:
    """In the folder picker: follow the links ``names`` one after the other, then use the folder."""
    for name in names:
        page.get_by_role("link", name=name, exact=True).click()
    page.get_by_role("button", name="Use this folder").click()


def test_the_first_run_setup_makes_a_profile_that_backs_up(
    home: Path, tmp_path: Path, rclone_servers: RcloneRemotes, tsa: LocalTSA
) -> None:
    from playwright.sync_api import expect

    user = tmp_path / "user"
    photos = {jpeg(user / "Pictures" / "2026" / f"IMG_{i:03d}.jpg", (480, 360), seed=i) for i in range(3)}
    exports = jpeg(user / "Exports" / "final.jpg", (480, 360), seed=9)
    (tmp_path / "drive").mkdir()
    bin_dir = tmp_path / "bin"
    systemctl = fake_tool(bin_dir, "systemctl")
    # A folder of its own on the session's WebDAV server, made through the server (which keeps
    # a cache of what it serves: a folder made behind its back would be unknown to it).
    served = f"setup-{tmp_path.name}"
    subprocess.run(
        [
            str(rclone_servers.rclone),
            "--config",
            str(rclone_servers.config_path),
            "mkdir",
            f"webdav:{served}",
        ],
        check=True,
        capture_output=True,
    )
    rclone_conf = tmp_path / "rclone" / "rclone.conf"
    rclone_conf.parent.mkdir()
    offered = tmp_path / "authorities.json"
    offered.write_text(
        json.dumps(
            [
                {"key": "local", "name": "Local TSA", "url": tsa.url, "certificate": str(tsa.ca_pem)},
                {
                    "key": "other",
                    "name": "Other TSA",
                    "url": "http://127.0.0.1:9/tsr",
                    "certificate": str(tsa.ca_pem),
                },
            ]
        )
    )
    env = {
        "HOME": str(user),
        "XDG_CONFIG_HOME": str(user / ".config"),
        "RCLONE_CONFIG": str(rclone_conf),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        # the timestamp authorities offered: the local one, then a second never contacted
        "KEEPMARK_TSA_AUTHORITIES": str(offered),
    }
    with chromium() as browser, ui_server(home, env=env) as ui:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(WAIT)
        page = context.new_page()
        page.goto(ui.url)
        expect(page).to_have_url(f"{ui.base}/setup")  # no profile yet: the setup
        expect(page.get_by_role("heading", name="Set up Keepmark")).to_be_visible()

        # 1. The account.
        page.get_by_label("Account name", exact=True).fill("林小美")
        page.get_by_label("Handle", exact=True).fill("@林小美🌸")
        shot(page, "setup-1-account")
        page.get_by_role("button", name="Continue").click()

        # 2. What to protect: Pictures among the suggestions (important), Exports through the picker.
        expect(page.get_by_role("heading", name="What to protect")).to_be_visible()
        pictures = str(user / "Pictures")
        page.get_by_label(f"Protect {pictures}", exact=True).check()
        page.get_by_label(f"Important {pictures}", exact=True).check()
        shot(page, "setup-2-folders")
        page.get_by_role("button", name="Choose another folder…").click()
        expect(page.get_by_role("heading", name="Choose a folder")).to_be_visible()
        shot(page, "setup-2-picker")
        pick(page, "Exports")
        expect(page.get_by_label(f"Protect {user / 'Exports'}", exact=True)).to_be_checked()
        expect(page.get_by_label(f"Important {pictures}", exact=True)).to_be_checked()  # kept
        page.get_by_role("button", name="Continue").click()

        # 3. Where to keep it: a drive folder (same disk as the photos here: said so), a WebDAV remote.
        expect(page.get_by_role("heading", name="Where to keep it")).to_be_visible()
        page.get_by_role("link", name="Choose a folder…").click()
        pick(page, "Up one level", "drive")
        drive_item = page.locator(".chosen-targets li", has_text=str(tmp_path / "drive"))
        expect(drive_item).to_contain_text("Works")
        expect(drive_item).to_contain_text("Same disk as your photos")
        page.get_by_text("A new WebDAV, SFTP or S3 remote").click()
        page.get_by_label("Remote name").fill("nas")
        page.get_by_label("Kind").select_option("webdav")
        # a folder of its own on the session's WebDAV server: what other tests find there is theirs
        page.get_by_label("Address (URL)").fill(f"http://127.0.0.1:{rclone_servers.webdav_port}/{served}/")
        page.locator("#r-webdav-user").fill(rclone_servers.user)
        page.locator("#r-webdav-pass").fill(rclone_servers.password)
        page.get_by_role("button", name="Make the remote and try it").click()
        remote_item = page.locator(".chosen-targets li", has_text="nas:Keepmark")
        expect(remote_item).to_contain_text("Works")
        expect(remote_item).to_contain_text("Off-site")
        assert "[nas]" in rclone_conf.read_text() and rclone_servers.password not in rclone_conf.read_text()
        shot(page, "setup-3-targets")
        page.get_by_role("button", name="Continue").click()

        # 4. When: the defaults, but not on battery.
        expect(page.get_by_role("heading", name="When")).to_be_visible()
        page.get_by_label("Also run on battery").uncheck()
        shot(page, "setup-4-schedule")
        page.get_by_role("button", name="Continue").click()

        # 5. Done: the profile, the service, the first full backup with its progress.
        expect(page.get_by_role("heading", name="Done")).to_be_visible()
        stamps = page.get_by_role("group", name="Trusted timestamps")
        expect(stamps).to_contain_text("Only a SHA-256 hash of each checkpoint is sent")
        expect(stamps.get_by_label("Local TSA")).to_be_checked()  # the first offered, by default
        expect(stamps.get_by_label("None: dates signed by my own key only")).not_to_be_checked()
        shot(page, "setup-5-finish")
        page.get_by_role("button", name="Create the profile and start the first backup").click()
        expect(page.get_by_role("heading", name="林小美")).to_be_visible()
        job = page.locator("#jobs li").first
        expect(job).to_have_attribute("data-state", "done", timeout=JOB_WAIT)
        # the page reloads once the job it watched has ended: the targets have their snapshots now
        targets = page.get_by_role("region", name="Targets")
        expect(targets).not_to_contain_text("none yet")
        expect(page.get_by_role("region", name="Health")).not_to_contain_text("last good full backup never")
        shot(page, "setup-6-dashboard")
        context.close()

    [profile_file] = (home / "profiles").glob("*.toml")
    doc = toml_loads(profile_file.read_text(encoding="utf-8"))
    assert doc["account"] == {"name": "林小美", "handle": "林小美🌸"}
    assert sorted(doc["sources"]["folders"]) == sorted([pictures, str(user / "Exports")])
    assert doc["sources"]["important"] == [pictures]
    assert doc["schedule"]["on_battery"] is False
    kinds = sorted((t["type"], t.get("path") or t.get("remote")) for t in doc["targets"])
    assert kinds == [("local", str(tmp_path / "drive")), ("rclone", "nas:Keepmark")]
    name = profile_file.stem
    sources = {f"Pictures/{p.relative_to(user / 'Pictures').as_posix()}" for p in photos}
    sources.add(f"Exports/{exports.name}")
    on_drive = tree(tmp_path / "drive" / name / "originals")
    on_remote = tree(rclone_servers.webdav_dir / served / "Keepmark" / name / "originals")
    assert set(on_drive) == set(on_remote) == sources
    assert on_drive[f"Exports/{exports.name}"] == exports.read_bytes()
    unit = user / ".config" / "systemd" / "user" / f"keepmark-{name}.service"
    assert unit.is_file() and "enable --now" in systemctl.read_text()
    # the first full backup's scan signed a checkpoint and had it timestamped by the local authority
    assert doc["proof"]["tsa_url"] == tsa.url
    [checkpoint] = (home / "state" / name / "proof" / "checkpoints").glob("checkpoint-*.json")
    assert checkpoint.with_suffix(".tsr").is_file() and tsa.answered == 1
