"""Cases (``backup.app.cases``) and the proof API of ``backup ui``: a real profile recorded over
real photos (tests/kit/photos.py), real reposts of them (resized and recompressed), a real
timestamp authority on 127.0.0.1, and the evidence zip unzipped and verified as a person
receiving it would."""

from __future__ import annotations

import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backup.errors import NothingFound, UsageError
from tests.backupkit import write_profile
from tests.conftest import run_backup
from tests.kit.photos import photo
from tests.kit.tsa import LocalTSA
from tests.kit.videos import cut_clip, pan_video
from tests.webkit import Ui, running_ui, session_of

RECORDED = ("astronaut.png", "chelsea.png", "rocket.jpg", "coins.png")
NEVER_RECORDED = "coffee.png"
REPOST_URL = "https://www.xiaohongshu.com/explore/64f0a1b2000000001e03c7d9"


@dataclass
class Studio:
    home: Path
    profile: str
    originals: dict[str, Path]  # photo name -> its file in the sources
    reposts: dict[str, Path]  # photo name -> a resized, recompressed copy in Downloads
    stranger: Path  # a photo never recorded
    video: Path  # a video in the sources
    clip: Path  # a part of it, cut, scaled down and re-encoded as a repost
    tsa: LocalTSA | None

    @property
    def env(self) -> dict[str, str]:
        return {"KEEPMARK_HOME": str(self.home)}

    def cases(self) -> Path:
        return self.home / "state" / self.profile / "cases"


def make_studio(root: Path, tsa: LocalTSA | None) -> Studio:
    """Profile ``lily`` over a Shoots folder of real photos, recorded (scanned: each has its
    ledger entry under a signed, timestamped checkpoint); reposts of them as a thief makes them:
    half the size, JPEG quality 45."""
    home = root / "keepmark-home"
    src = root / "Shoots"
    (src / "2026").mkdir(parents=True)
    originals = {}
    for name in RECORDED:
        path = src / "2026" / (Path(name).stem + ".jpg")
        photo(name).save(path, "JPEG", quality=92)
        originals[name] = path
    video = pan_video(src / "2026" / "studio-pan.mp4", ["grass.png", "brick.png"], 8.0, size=(320, 180))
    proof = {"contact_email": "lily@example.com"}
    if tsa is not None:
        proof |= {"tsa_url": tsa.url, "tsa_certificate": str(tsa.ca_pem)}
    write_profile(home, [src], [], proof=proof)
    r = run_backup("inventory", "scan", "-p", "lily", env={"KEEPMARK_HOME": str(home)})
    assert r.code == 0, r
    downloads = root / "Downloads"
    downloads.mkdir()
    reposts = {}
    for name in RECORDED:
        im = photo(name)
        small = im.resize((im.width // 2, im.height // 2))
        reposts[name] = downloads / f"repost-{Path(name).stem}.jpg"
        small.save(reposts[name], "JPEG", quality=45)
    stranger = downloads / "never-recorded.jpg"
    photo(NEVER_RECORDED).save(stranger, "JPEG", quality=80)
    clip = cut_clip(video, downloads / "reel.mp4", 1.0, 3.0, width=240)
    return Studio(home, "lily", originals, reposts, stranger, video, clip, tsa)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    root = tmp_path_factory.mktemp("cases")
    tsa = LocalTSA(root / "tsa") if shutil.which("openssl") else None
    try:
        made = make_studio(root, tsa)
        with pytest.MonkeyPatch.context() as mp:  # the use cases, called in this process
            mp.setenv("KEEPMARK_HOME", str(made.home))
            mp.delenv("KEEPMARK_PROFILE", raising=False)
            yield made
    finally:
        if tsa is not None:
            tsa.close()


@pytest.fixture(scope="module")
def ui(studio: Studio) -> Iterator[Ui]:
    with running_ui(studio.home, env=studio.env) as running:
        yield running


@pytest.fixture(scope="module")
def session(ui: Ui) -> tuple[str, str]:
    """The Cookie header and the CSRF token of one signed-in session (the URL's token is used
    once)."""
    return session_of(ui)


def lily() -> Any:
    from backup.app.profiles import load

    return load("lily")


def upload_copy(studio: Studio, source: Path) -> Path:
    """What the web layer does first: the upload, in a new file of the cases folder."""
    from backup.app.cases import new_upload

    target = new_upload(lily())
    target.write_bytes(source.read_bytes())
    return target


def unzip_and_verify(data: bytes, into: Path) -> tuple[Path, Any]:
    """Unzip the evidence as its receiver does; the one folder it gives, and its verification."""
    from backup.app.prove import verify_bundle

    into.mkdir(parents=True)
    archive = into / "evidence.zip"
    archive.write_bytes(data)
    with zipfile.ZipFile(archive) as z:
        z.extractall(into / "out")
    [folder] = (into / "out").iterdir()
    return folder, verify_bundle(folder)


# -- the use cases ----------------------------------------------------------------------------


def test_a_repost_becomes_a_case_with_a_bundle_zip_that_verifies(studio: Studio, tmp_path: Path) -> None:
    from backup.app.cases import get_case, list_cases, open_case

    case = open_case(
        lily(), upload_copy(studio, studio.reposts["chelsea.png"]), "repost of my cat.jpg", url=REPOST_URL
    )
    doc = case.doc
    assert doc["verdict"]["match"] is True
    assert doc["original"]["path"] == str(studio.originals["chelsea.png"])
    assert doc["original"]["sha256"] == doc["prove"]["match"]["sha256"]
    assert 0.75 <= doc["verdict"]["confidence"] <= 1
    assert doc["status"] == "drafted" and doc["notes"] == "" and doc["url"] == REPOST_URL
    assert doc["suspect"]["name"] == "repost_of_my_cat.jpg"
    kept = case.folder / "suspect" / "repost_of_my_cat.jpg"
    assert kept.read_bytes() == studio.reposts["chelsea.png"].read_bytes()
    assert doc["suspect"]["sha256"] == doc["prove"]["suspect"]["sha256"]
    assert doc["suspect"]["size"] == kept.stat().st_size
    # the picture sizes the matching points are drawn in (upright pixels)
    assert doc["suspect"]["size_px"] == [225, 150] and doc["original"]["size_px"] == [451, 300]
    keypoints = doc["prove"]["match"]["details"]["keypoints"]
    assert len(keypoints) == doc["verdict"]["points"] > 10
    assert all(
        0 <= x <= 225 and 0 <= y <= 150 and 0 <= xo <= 451 and 0 <= yo <= 300 for x, y, xo, yo in keypoints
    )
    # how the first record is proven
    proof = doc["proof"]
    assert proof["first_recorded"] and proof["checkpoint"]["key_id"]
    if studio.tsa is not None:
        assert proof["timestamp"]["authority"] == "CN=Keepmark Test TSA"
    # the bundle, and its zip: one folder that verifies once unzipped
    assert (case.folder / "bundle" / "evidence.json").is_file()
    folder, report = unzip_and_verify((case.folder / "bundle.zip").read_bytes(), tmp_path / "got")
    assert folder.name == f"evidence-{case.id}" and report.ok, report.problems
    assert (folder / "repost_of_my_cat.jpg").exists() is False and (folder / "suspect.jpg").is_file()
    ev = json.loads((folder / "evidence.json").read_text())
    assert ev["suspect"]["url"] == REPOST_URL and ev["original"]["paths"] == [
        str(studio.originals["chelsea.png"])
    ]
    # listed newest first, and read back the same
    assert list_cases(lily()).cases[0].id == case.id
    assert get_case(lily(), case.id).doc == doc
    # no temporary file left behind
    assert not [p for p in studio.cases().iterdir() if p.name.startswith(".")]


def test_a_photo_never_recorded_claims_nothing(studio: Studio) -> None:
    from backup.app.cases import list_cases, open_case

    case = open_case(lily(), upload_copy(studio, studio.stranger), "found.jpg")
    assert case.doc["verdict"] == {"match": False}
    assert case.doc["original"] is None and case.doc["proof"] is None
    assert case.doc["bundle"] is None and case.doc["bundle_zip"] is None
    assert sorted(p.name for p in case.folder.iterdir()) == ["case.json", "suspect"]
    assert case.zip_file() is None
    assert case.id in [c.id for c in list_cases(lily()).cases]


def test_a_file_that_is_no_photo_or_video_is_refused_and_nothing_kept(studio: Studio, tmp_path: Path) -> None:
    from backup.app.cases import list_cases, open_case

    before = {c.id for c in list_cases(lily()).cases}
    text = tmp_path / "notes.txt"
    text.write_text("not a picture\n")
    with pytest.raises(UsageError) as refused:
        open_case(lily(), upload_copy(studio, text), "notes.txt")
    assert str(refused.value) == "notes.txt: not a photo or a video; choose a photo or a video file"
    # a file named like a photo that does not decode: one line naming it (not the state folder)
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2000))
    with pytest.raises(UsageError) as bad:
        open_case(lily(), upload_copy(studio, fake), "holiday.jpg")
    line = str(bad.value)
    assert line.startswith("holiday.jpg: ") and "\n" not in line and str(studio.home) not in line
    assert {c.id for c in list_cases(lily()).cases} == before
    assert not [p for p in studio.cases().iterdir() if p.name.startswith(".")]
    assert all((p / "case.json").is_file() for p in studio.cases().iterdir())


def test_names_from_outside_are_sanitised_and_ids_checked(studio: Studio) -> None:
    from backup.app.cases import case_folder, get_case, safe_name

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\Desktop\\偷图 (1).JPG") == "偷图_1_.jpg"
    assert safe_name("..") == "suspect" and safe_name("") == "suspect" and safe_name(".jpg") == "jpg"
    assert safe_name("a" * 300 + ".png") == "a" * 116 + ".png"
    for bad in ("../x", "..", "20261207-013000-abcdef/../x", "x", "20261207-013000-ABCDEF", ""):
        with pytest.raises(UsageError):
            case_folder(lily(), bad)
    with pytest.raises(NothingFound):
        get_case(lily(), "20000101-000000-abcdef")


def test_an_unfinished_case_is_not_listed_and_is_swept(studio: Studio) -> None:
    from backup.app import cases

    root = studio.cases()
    root.mkdir(parents=True, exist_ok=True)
    unfinished = root / "20000101-000000-0000aa"  # a prove that crashed: no case.json
    (unfinished / "bundle").mkdir(parents=True)
    (unfinished / "bundle" / "evidence.json").write_text("{}")
    stale_upload = root / ".upload-crashed.keepmark-tmp"
    stale_upload.write_bytes(b"half a photo")
    assert unfinished.name not in [c.id for c in cases.list_cases(lily()).cases]
    with pytest.raises(NothingFound):
        cases.get_case(lily(), unfinished.name)
    day_ago = 1_000_000_000
    os.utime(unfinished, (day_ago, day_ago))
    os.utime(stale_upload, (day_ago, day_ago))
    cases.open_case(lily(), upload_copy(studio, studio.reposts["coins.png"]), "coins.jpg")
    assert not unfinished.exists() and not stale_upload.exists()


def test_status_and_notes_are_validated_and_kept(studio: Studio) -> None:
    from backup.app.cases import NOTES_MAX, get_case, list_cases, update_case

    case = list_cases(lily()).cases[0]
    with pytest.raises(UsageError, match=r"^status: one of drafted, sent, resolved, not 'lost'$"):
        update_case(lily(), case.id, status="lost")
    with pytest.raises(UsageError, match=r"^notes: at most 4000 characters"):
        update_case(lily(), case.id, notes="x" * (NOTES_MAX + 1))
    update_case(lily(), case.id, status="sent", notes="Sent the notice to the platform.\r\nTicket 1234.")
    got = get_case(lily(), case.id).doc
    assert got["status"] == "sent" and got["notes"] == "Sent the notice to the platform.\nTicket 1234."
    assert [h["status"] for h in got["history"]] == ["drafted", "sent"]
    update_case(lily(), case.id, notes="")  # the status stays
    got = get_case(lily(), case.id).doc
    assert got["status"] == "sent" and got["notes"] == ""


def test_a_deleted_case_is_gone_and_nothing_else_is_touched(studio: Studio) -> None:
    from backup.app import cases
    from backup.home import inventory_path

    original = studio.originals["rocket.jpg"]
    case = cases.open_case(lily(), upload_copy(studio, studio.reposts["rocket.jpg"]), "rocket.jpg")
    assert case.matched and (case.folder / "bundle.zip").is_file()
    others = {c.id for c in cases.list_cases(lily()).cases} - {case.id}
    before = original.read_bytes(), inventory_path("lily").read_bytes()
    assert cases.delete_case(lily(), case.id) == case.id
    assert not case.folder.exists() and not list(studio.cases().glob(f"*{case.id}*"))
    assert {c.id for c in cases.list_cases(lily()).cases} == others  # the others stay
    assert (original.read_bytes(), inventory_path("lily").read_bytes()) == before  # untouched
    with pytest.raises(NothingFound, match=rf"^case {case.id}: no such case of lily$"):
        cases.delete_case(lily(), case.id)
    with pytest.raises(UsageError, match=r"not a case id"):
        cases.delete_case(lily(), "../profiles")


def test_a_delete_cut_short_leaves_nothing_listed_and_is_finished_by_the_next_case(studio: Studio) -> None:
    """A crash between the rename and the removal: the renamed folder is not a case (not
    listed, not found) and the next case's sweep removes it, however new it is."""
    from backup.app import cases

    case = cases.open_case(lily(), upload_copy(studio, studio.reposts["coins.png"]), "coins.jpg")
    half = case.folder.with_name(cases.GONE_PREFIX + case.id)
    os.replace(case.folder, half)  # as delete_case does first
    assert case.id not in [c.id for c in cases.list_cases(lily()).cases]
    with pytest.raises(NothingFound):
        cases.get_case(lily(), case.id)
    cases.open_case(lily(), upload_copy(studio, studio.reposts["coins.png"]), "coins.jpg")
    assert not half.exists()


# -- the API ----------------------------------------------------------------------------------


def multipart(fields: dict[str, str], file: tuple[str, bytes] | None) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    if file is not None:
        name, data = file
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def post_file(
    ui: Ui, session: tuple[str, str], name: str, data: bytes, fields: dict[str, str] | None = None
) -> Any:
    cookie, csrf = session
    kind, body = multipart(fields or {}, (name, data))
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": kind}
    return ui.request("POST", "/api/prove", headers=headers, body=body)


def test_post_api_prove_answers_the_prove_document_and_the_zip(
    studio: Studio, ui: Ui, session: tuple[str, str], tmp_path: Path
) -> None:
    cookie = session[0]
    r = post_file(
        ui, session, "stolen.jpg", studio.reposts["astronaut.png"].read_bytes(), {"url": REPOST_URL}
    )
    assert r.status == 200, r.text
    doc = r.json()
    # the `backup prove --json` document, plus the case and its zip
    cli = run_backup("prove", str(studio.reposts["astronaut.png"]), "--json", "-p", "lily", env=studio.env)
    assert cli.code == 0, cli
    assert set(cli.json()) <= set(doc)
    assert doc["match"]["path"] == cli.json()["match"]["path"] == str(studio.originals["astronaut.png"])
    assert doc["match"]["method"] == cli.json()["match"]["method"]
    assert doc["match"]["details"]["keypoints"]
    case_id = doc["case"]
    assert doc["zip"] == f"/api/cases/{case_id}/bundle.zip?profile=lily"
    assert doc["bundle"] == str(studio.cases() / case_id / "bundle")

    z = ui.get(doc["zip"], headers={"Cookie": cookie})
    assert z.status == 200 and z.header("content-type") == "application/zip"
    assert (z.header("content-disposition") or "").startswith("attachment;")
    _folder, report = unzip_and_verify(z.body, tmp_path / "zip")
    assert report.ok, report.problems
    # `backup prove --verify` on the unzipped folder, as the receiver runs it
    v = run_backup("prove", "--verify", str(_folder), env=studio.env)
    assert v.code == 0 and "Evidence holds" in v.out, v

    listed = ui.get("/api/cases", headers={"Cookie": cookie}).json()
    assert listed["cases"][0]["id"] == case_id and "prove" not in listed["cases"][0]
    one = ui.get(f"/api/cases/{case_id}", headers={"Cookie": cookie}).json()
    assert one["url"] == REPOST_URL and one["original"]["name"] == "astronaut.jpg"
    assert one["drawing"]["keypoints"] == doc["match"]["details"]["keypoints"]
    suspect = ui.get(f"/api/cases/{case_id}/suspect", headers={"Cookie": cookie})
    assert suspect.status == 200 and suspect.header("content-type") == "image/jpeg"
    assert suspect.body == studio.reposts["astronaut.png"].read_bytes()
    page = ui.get(f"/proof/cases/{case_id}", headers={"Cookie": cookie})
    assert page.status == 200 and "astronaut.jpg" in page.text and "<circle" in page.text
    # the printable report of the bundle, in a sandbox that lets only its own style and pictures in
    report = ui.get(f"/api/cases/{case_id}/report", headers={"Cookie": cookie})
    assert report.status == 200 and "Evidence of ownership" in report.text
    policy = report.headers["content-security-policy"]
    assert policy == [
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
    ]
    assert ui.get(f"/api/cases/{case_id}/original-frame", headers={"Cookie": cookie}).status == 404
    # the bearer token (a script) proves too
    kind, body = multipart({}, ("again.jpg", studio.reposts["rocket.jpg"].read_bytes()))
    b = ui.bearer("/api/prove", "POST", headers={"Content-Type": kind}, body=body)
    assert b.status == 200 and b.json()["match"]["path"] == str(studio.originals["rocket.jpg"]), b.text


def test_post_api_prove_of_an_unrecorded_photo_has_no_zip(
    studio: Studio, ui: Ui, session: tuple[str, str]
) -> None:
    r = post_file(ui, session, "found.jpg", studio.stranger.read_bytes())
    assert r.status == 200, r.text
    doc = r.json()
    assert doc["match"] is None and doc["bundle"] is None and doc["zip"] is None
    z = ui.get(f"/api/cases/{doc['case']}/bundle.zip", headers={"Cookie": session[0]})
    assert z.status == 404 and "no evidence bundle" in z.json()["error"]
    page = ui.get(f"/proof/cases/{doc['case']}", headers={"Cookie": session[0]})
    assert "No original found" in page.text and "bundle.zip" not in page.text


def test_post_api_prove_refuses_what_it_cannot_take(studio: Studio, ui: Ui, session: tuple[str, str]) -> None:
    cookie, csrf = session
    before = sorted(p.name for p in studio.cases().iterdir())
    r = post_file(ui, session, "notes.txt", b"hello, not a photo\n")
    assert r.status == 400
    assert r.json()["error"] == "notes.txt: not a photo or a video; choose a photo or a video file"
    # where it was found: a web address only (it becomes a link on the case page)
    r = post_file(
        ui, session, "stolen.jpg", studio.reposts["coins.png"].read_bytes(), {"url": "javascript:alert(1)"}
    )
    assert r.status == 400
    assert r.json()["error"] == "url: 'javascript:alert(1)' is not a web address (http:// or https://)"
    # no file field; not multipart
    kind, body = multipart({"url": REPOST_URL}, None)
    r = ui.request(
        "POST",
        "/api/prove",
        headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": kind},
        body=body,
    )
    assert r.status == 400 and r.json()["error"].startswith("file: missing")
    r = ui.request(
        "POST",
        "/api/prove",
        headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"},
        body="{}",
    )
    assert r.status == 400 and "multipart/form-data" in r.json()["error"]
    # without the CSRF token: refused before anything is read
    kind, body = multipart({}, ("stolen.jpg", studio.reposts["coins.png"].read_bytes()))
    r = ui.request("POST", "/api/prove", headers={"Cookie": cookie, "Content-Type": kind}, body=body)
    assert r.status == 403 and "CSRF" in r.json()["error"]
    assert sorted(p.name for p in studio.cases().iterdir()) == before


def test_case_ids_from_outside_are_checked(studio: Studio, ui: Ui, session: tuple[str, str]) -> None:
    cookie, _csrf = session
    for path in ("/api/cases/..%2Fx", "/api/cases/..", "/api/cases/x", "/proof/cases/..%2F..%2Fprofiles"):
        r = ui.get(path, headers={"Cookie": cookie})
        assert r.status in (400, 404), (path, r.status)
    r = ui.get("/api/cases/not-a-case/suspect", headers={"Cookie": cookie})
    assert r.status == 400 and r.json()["error"].startswith("case 'not-a-case': not a case id")
    r = ui.get("/api/cases/20000101-000000-abcdef/bundle.zip", headers={"Cookie": cookie})
    assert r.status == 404


def test_status_and_notes_through_the_api(studio: Studio, ui: Ui, session: tuple[str, str]) -> None:
    cookie, csrf = session
    case_id = ui.get("/api/cases", headers={"Cookie": cookie}).json()["cases"][0]["id"]
    json_headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    r = ui.request("POST", f"/api/cases/{case_id}", headers=json_headers, body=json.dumps({"status": "gone"}))
    assert r.status == 400 and r.json()["error"] == "status: one of drafted, sent, resolved, not 'gone'"
    r = ui.request(
        "POST", f"/api/cases/{case_id}", headers=json_headers, body=json.dumps({"notes": "n" * 4001})
    )
    assert r.status == 400 and r.json()["error"].startswith("notes: at most 4000 characters")
    r = ui.request(
        "POST",
        f"/api/cases/{case_id}",
        headers=json_headers,
        body=json.dumps({"status": "resolved", "notes": "Taken down."}),
    )
    assert r.status == 200 and r.json()["status"] == "resolved"
    on_disk = json.loads((studio.cases() / case_id / "case.json").read_text())
    assert on_disk["status"] == "resolved" and on_disk["notes"] == "Taken down."
    # the page's form (urlencoded, its csrf field): saved, back to the case page
    form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    r = ui.request(
        "POST",
        f"/api/cases/{case_id}?profile=lily",
        headers=form,
        body=f"csrf={csrf}&status=sent&notes=Again",
    )
    assert r.status == 303 and r.header("location") == f"/proof/cases/{case_id}?profile=lily&saved=1"
    assert json.loads((studio.cases() / case_id / "case.json").read_text())["status"] == "sent"
    # without the CSRF token: refused, nothing changed
    r = ui.request(
        "POST",
        f"/api/cases/{case_id}",
        headers={**json_headers, "X-CSRF-Token": "wrong"},
        body=json.dumps({"status": "drafted"}),
    )
    assert r.status == 403
    r = ui.request("POST", f"/api/cases/{case_id}", headers=form, body="status=drafted")
    assert r.status == 403
    assert json.loads((studio.cases() / case_id / "case.json").read_text())["status"] == "sent"


def test_delete_a_case_through_the_api(studio: Studio, ui: Ui, session: tuple[str, str]) -> None:
    """DELETE /api/cases/ID (JSON, with the CSRF header) and the case page's form; neither
    without the CSRF token; a case id from outside is checked."""
    from backup.app import cases

    cookie, csrf = session
    one, two = (
        cases.open_case(lily(), upload_copy(studio, studio.reposts[n]), n).id
        for n in ("coins.png", "rocket.jpg")
    )
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf}
    assert ui.request("DELETE", f"/api/cases/{one}", headers={"Cookie": cookie}).status == 403
    assert (studio.cases() / one).is_dir()  # refused: still there
    r = ui.request("DELETE", f"/api/cases/{one}", headers=headers)
    assert r.status == 200 and r.json() == {"ok": True, "profile": "lily", "deleted": one}
    assert not (studio.cases() / one).exists()
    assert ui.request("DELETE", f"/api/cases/{one}", headers=headers).status == 404
    assert ui.request("DELETE", "/api/cases/..%2Fprofiles", headers=headers).status in (400, 404)
    assert (studio.home / "profiles" / "lily.toml").is_file()
    # the page's form: its csrf field, back to the list with a word
    form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    assert ui.request("POST", f"/api/cases/{two}/delete", headers=form, body="x=1").status == 403
    r = ui.request("POST", f"/api/cases/{two}/delete?profile=lily", headers=form, body=f"csrf={csrf}")
    assert r.status == 303 and r.header("location") == "/proof?profile=lily&deleted=1"
    assert not (studio.cases() / two).exists()
    assert two not in [c["id"] for c in ui.get("/api/cases", headers={"Cookie": cookie}).json()["cases"]]


def test_a_clip_names_its_video_and_the_time_range(studio: Studio, ui: Ui, session: tuple[str, str]) -> None:
    r = post_file(ui, session, "reel.mp4", studio.clip.read_bytes())
    assert r.status == 200, r.text
    doc = r.json()
    assert doc["match"]["method"] == "video" and doc["match"]["path"] == str(studio.video)
    start, end = doc["match"]["details"]["time_range"]
    assert abs(start - 1.0) <= 0.6 and abs(end - 4.0) <= 0.6, (start, end)
    cookie = session[0]
    case = ui.get(f"/api/cases/{doc['case']}", headers={"Cookie": cookie}).json()
    assert case["suspect"]["kind"] == "video" and case["verdict"]["time_range"] == [start, end]
    page = ui.get(f"/proof/cases/{doc['case']}", headers={"Cookie": cookie})
    assert f"It shows {start:.1f} s to {end:.1f} s of the original video." in page.text
    assert '<video src="/api/cases/' in page.text
    suspect = ui.get(f"/api/cases/{doc['case']}/suspect", headers={"Cookie": cookie})
    assert suspect.header("content-type") == "video/mp4" and suspect.body == studio.clip.read_bytes()
    assert ui.get(doc["zip"], headers={"Cookie": cookie}).status == 200
    # the original's frame where the matched range starts, beside the clip
    assert case["original"]["frame_at"] == start
    frame = ui.get(f"/api/cases/{doc['case']}/original-frame", headers={"Cookie": cookie})
    assert frame.status == 200 and frame.header("content-type") == "image/jpeg"
    assert frame.body.startswith(b"\xff\xd8")
    assert f"/api/cases/{doc['case']}/original-frame" in page.text
