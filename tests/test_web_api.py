"""``backup ui`` with a plain HTTP client: the first line, the JSON API (the same documents as
the CLI's ``--json``), and everything that keeps others out: the one-time token, the session
cookie, CSRF, the Host and Origin headers, profiles named from outside, the listening address."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.backupkit import write_profile
from tests.kit.media import jpeg
from tests.webkit import Answer, Ui, running_ui, session_of, start_ui

pytestmark = pytest.mark.slow


@pytest.fixture
def backed_up(home: Path, tmp_path: Path, cli: Any) -> Path:
    """Profile lily: five photos, backed up once to a drive folder."""
    src = tmp_path / "Shoots"
    for i in range(5):
        jpeg(src / f"2026/IMG_{i:03d}.jpg", seed=i)
    (tmp_path / "drive").mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(tmp_path / "drive")}])
    assert cli("full", "-p", "lily").code == 0
    return src


@pytest.fixture
def ui(home: Path, backed_up: Path) -> Any:
    server = start_ui(home)
    yield server
    assert server.stop() == 0, server.stderr()


def test_first_line_and_a_clean_stop(home: Path, backed_up: Path) -> None:
    server = start_ui(home)
    assert server.pid == server.proc.pid and server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")
    assert server.get("/api/status").status == 401
    assert server.stop() == 0
    assert server.stdout_after_first_line() == b""  # nothing after the line


def test_api_answers_are_the_cli_documents(ui: Ui, cli: Any) -> None:
    def same(path: str, *argv: str, drop: tuple[str, ...] = ()) -> None:
        answer = ui.bearer(path)
        assert answer.status == 200 and answer.header("content-type") == "application/json", answer
        ours, theirs = answer.json(), cli(*argv, "--json").json()
        for doc in (ours, theirs):
            for t in doc.get("targets", []):
                for key in drop:
                    t.pop(key, None)
        assert ours == theirs

    same("/api/status", "status", drop=("age_seconds",))
    same("/api/check", "check")
    same("/api/snapshots", "snapshots")
    every = cli("inventory", "list", "--json").json()["files"]
    page = ui.bearer("/api/inventory?offset=1&limit=2").json()
    assert page["files"] == every[1:3] and page["total"] == len(every) == 5
    assert (page["offset"], page["limit"], page["count"]) == (1, 2, 2)
    assert ui.bearer("/api/inventory?offset=4&limit=10").json()["files"] == every[4:]
    assert ui.bearer("/api/status?profile=lily").json()["profile"] == "lily"


def test_api_refuses_bad_parameters_with_one_line(ui: Ui) -> None:
    for query in ("limit=100000", "offset=-1", "limit=ten"):
        answer = ui.bearer(f"/api/inventory?{query}")
        assert answer.status == 400 and answer.json()["ok"] is False, (query, answer)
        assert "\n" not in answer.json()["error"]
    for name in ("nobody", "../../etc/passwd", "/tmp/lily.toml"):
        answer = ui.bearer(f"/api/status?profile={name}")
        assert answer.status == 404 and "no profile named" in answer.json()["error"], answer


def test_the_token_is_exchanged_once_for_a_strict_session_cookie(ui: Ui) -> None:
    assert ui.get("/?token=wrong").status == 401
    first = ui.get("/?token=" + ui.token)
    assert first.status == 303 and first.header("location") == "/"
    cookie = first.header("set-cookie") or ""
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    again = ui.get("/?token=" + ui.token)
    assert again.status == 401 and "Open Keepmark with its link" in again.text
    assert "set-cookie" not in again.headers
    session = cookie.split(";", 1)[0]
    page = ui.get("/", headers={"Cookie": session, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert page.status == 200 and "健康状况" in page.text and "Lily Chen" in page.text
    # the check's findings in Chinese, their names and numbers exact; in English as the CLI says them
    assert "当前账号有 1 个备份位置，异地 0 个" in page.text and "the profile has" not in page.text
    assert "proof.tsa_url：没有可信时间戳" in page.text and "<strong>可信时间戳</strong>" in page.text
    english = ui.get("/", headers={"Cookie": session, "Accept-Language": "en"}).text
    assert (
        "the profile has 1 target, 0 off-site" in english and "proof.tsa_url: no trusted timestamp" in english
    )
    assert ui.get("/", headers={"Cookie": "keepmark_session=forged"}).status == 401
    # the token still serves scripts as a bearer token
    assert ui.bearer("/api/status").status == 200


def test_without_a_session_nothing_is_served(ui: Ui) -> None:
    for path in ("/api/status", "/api/check", "/api/snapshots", "/api/inventory", "/api/events", "/api/jobs"):
        answer = ui.get(path)
        assert answer.status == 401 and answer.json()["ok"] is False, path
    page = ui.get("/")
    assert page.status == 401 and "backup ui" in page.text and "Lily Chen" not in page.text
    assert ui.get("/api/status", headers={"Authorization": "Bearer " + ui.token[:-1] + "x"}).status == 401
    # the app's own script and style only; nothing else through the static route
    assert ui.get("/static/app.css").status == 200
    assert ui.get("/static/../app.py").status == 404
    assert ui.get("/static/%2e%2e/app.py").status == 404


def test_csrf_is_needed_for_cookie_requests_that_change_anything(ui: Ui) -> None:
    cookie, csrf = session_of(ui)
    bad_kind = json.dumps({"kind": "nothing"})
    form = {"Cookie": cookie, "Content-Type": "application/json"}
    assert ui.request("POST", "/api/jobs", headers=form, body=bad_kind).status == 403
    wrong = {**form, "X-CSRF-Token": csrf[:-1] + "x"}
    assert ui.request("POST", "/api/jobs", headers=wrong, body=bad_kind).status == 403
    right = {**form, "X-CSRF-Token": csrf}
    assert ui.request("POST", "/api/jobs", headers=right, body=bad_kind).status == 400  # past the guard
    # a form: the csrf field
    urlenc = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    assert ui.request("POST", "/lang", headers=urlenc, body="lang=en&back=/").status == 403
    switched = ui.request("POST", "/lang", headers=urlenc, body=f"lang=zh-CN&back=/&csrf={csrf}")
    assert switched.status == 303
    assert "健康状况" in ui.get("/", headers={"Cookie": cookie, "Accept-Language": "en"}).text
    # bearer requests need none
    assert ui.bearer("/api/jobs", "POST", body=bad_kind).status == 400


def test_a_job_started_through_the_api_runs_and_can_be_listed(ui: Ui, tmp_path: Path) -> None:
    import time

    started = ui.bearer("/api/jobs", "POST", body=json.dumps({"kind": "full"}))
    assert started.status == 202 and started.json()["state"] == "running"
    job = started.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        [doc] = [j for j in ui.bearer("/api/jobs").json()["jobs"] if j["id"] == job]
        if doc["state"] != "running":
            break
        time.sleep(0.2)
    assert doc["state"] == "done" and doc["error"] is None, doc
    assert doc["result"]["kind"] == "full" and doc["result"]["ok"] is True
    assert ui.bearer("/api/jobs/999/cancel", "POST").status == 404


def test_host_and_origin_of_another_site_are_refused(ui: Ui) -> None:
    rebinding = {"Authorization": f"Bearer {ui.token}", "Host": f"evil.example:{ui.port}"}
    assert ui.get("/api/status", headers=rebinding).status == 400
    assert ui.get("/api/status", headers={**rebinding, "Host": f"127.0.0.1:{ui.port + 1}"}).status == 400
    assert ui.get("/api/status", headers={**rebinding, "Host": f"localhost:{ui.port}"}).status == 200
    other = {"Authorization": f"Bearer {ui.token}", "Origin": "http://evil.example"}
    assert ui.get("/api/status", headers=other).status == 403
    own = ui.bearer("/api/status", headers={"Origin": f"http://127.0.0.1:{ui.port}"})
    assert own.status == 200
    assert own.header("x-frame-options") == "DENY" and own.header("referrer-policy") == "same-origin"
    assert "frame-ancestors 'none'" in (own.header("content-security-policy") or "")


def test_another_address_needs_a_password(home: Path, backed_up: Path, cli: Any) -> None:
    refused = cli("ui", "--no-browser", "--host", "127.0.0.2")
    assert (
        refused.code == 2 and "--set-password" in refused.err and len(refused.err.strip().splitlines()) == 1
    )
    from backup.web.security import PASSWORD_FILE, save_password

    save_password(home, "correct horse battery")
    stored = (home / PASSWORD_FILE).read_text(encoding="utf-8")
    assert "correct horse" not in stored and stored.startswith('{"hash": "scrypt$')
    assert oct((home / PASSWORD_FILE).stat().st_mode & 0o777) == "0o600"
    server = start_ui(home, "--host", "127.0.0.2")
    try:
        host = {"Host": f"127.0.0.2:{server.port}"}
        assert server.get("/api/status", host="127.0.0.2", headers=host).status == 401
        form = {**host, "Content-Type": "application/x-www-form-urlencoded"}
        wrong = server.request("POST", "/login", host="127.0.0.2", headers=form, body="password=guess")
        assert wrong.status == 401
        right = server.request(
            "POST", "/login", host="127.0.0.2", headers=form, body="password=correct+horse+battery"
        )
        assert right.status == 303 and "HttpOnly" in (right.header("set-cookie") or "")
        cookie = (right.header("set-cookie") or "").split(";", 1)[0]
        assert server.get("/", host="127.0.0.2", headers={**host, "Cookie": cookie}).status == 200
    finally:
        assert server.stop() == 0


def test_a_port_in_use_is_named(home: Path, backed_up: Path, cli: Any) -> None:
    server = start_ui(home)
    try:
        taken = cli("ui", "--no-browser", "--port", str(server.port))
        assert taken.code == 2 and f"127.0.0.1:{server.port}" in taken.err and "--port" in taken.err
    finally:
        assert server.stop() == 0


def test_the_account_self_check_is_answered_from_the_page_and_the_api(ui: Ui) -> None:
    cookie, csrf = session_of(ui)
    form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    said = ui.request("POST", "/self-check", headers=form, body=f"csrf={csrf}&question=two_factor&answer=yes")
    assert said.status == 303 and said.header("location") == "/#self-check"
    doc = ui.bearer("/api/self-check").json()
    [two_factor] = [q for q in doc["questions"] if q["id"] == "two_factor"]
    assert two_factor["answer"] == "yes" and two_factor["answered"] and not two_factor["due"]
    assert doc["due"] == 3
    body = json.dumps({"question": "login_devices", "answer": "no"})
    assert ui.bearer("/api/self-check", "POST", body=body).json()["due"] == 2
    page = ui.get("/", headers={"Cookie": cookie, "Accept-Language": "zh-CN"}).text
    assert "账号安全自查" in page and "2 项待回答" in page
    bad = ui.bearer("/api/self-check", "POST", body=json.dumps({"question": "pin", "answer": "yes"}))
    assert bad.status == 400 and "question 'pin'" in bad.json()["error"]


def test_the_setup_says_what_is_wrong_by_the_field_and_keeps_the_answers(
    home: Path, tmp_path: Path, cli: Any
) -> None:
    """The wizard over plain HTTP: a missing name, a taken profile name, no folder, a relative
    target path and an empty schedule time are each refused beside their field; a bearer script
    gets no wizard; nothing is written before the last step."""
    src = tmp_path / "Shoots"
    jpeg(src / "IMG_1.jpg", seed=1)
    write_profile(home, [src], [], name="taken")
    with running_ui(home, env={"HOME": str(tmp_path)}) as ui:
        cookie, csrf = session_of(ui)
        form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

        def post(path: str, body: str) -> Answer:
            return ui.request("POST", path, headers=form, body=f"csrf={csrf}&{body}")

        bad = post("/setup/account", "account=&handle=%40mei&profile=taken&lang=en")
        assert bad.status == 400 and "Give the account's name." in bad.text
        assert "A profile of this name exists" in bad.text and 'value="@mei"' in bad.text  # kept
        assert post("/setup/account", "account=Mei&handle=%40mei&profile=&lang=zh-CN").status == 303
        assert "选择至少" not in ui.get("/setup?step=folders", headers={"Cookie": cookie}).text
        none = post("/setup/folders", "action=next")
        assert none.status == 400 and "请至少选择一个文件夹。" in none.text  # the chosen language
        picker = ui.get(f"/setup/pick?path={quote(str(tmp_path))}", headers={"Cookie": cookie})
        assert picker.status == 200 and ">Shoots</a>" in picker.text  # folders only, never files:
        assert (
            "IMG_1.jpg" not in ui.get(f"/setup/pick?path={quote(str(src))}", headers={"Cookie": cookie}).text
        )
        refused = ui.get("/setup/pick?path=relative/x", headers={"Cookie": cookie})
        assert refused.status == 400 and "relative/x" in refused.text
        assert post("/setup/folders", f"action=next&folder={quote(str(src))}").status == 303
        relative = post("/setup/targets", "action=folder&path=Backups")
        assert relative.status == 303
        page = ui.get("/setup?step=targets", headers={"Cookie": cookie}).text
        assert "Backups" in page and "relative" in page.lower()  # the probe's one line, by the target
        assert post("/setup/targets", "action=remove&index=0").status == 303
        assert post("/setup/targets", "action=next").status == 400  # no place yet
        drive = tmp_path / "drive"
        drive.mkdir()
        assert post("/setup/targets", f"action=folder&path={quote(str(drive))}").status == 303
        zh = {"Cookie": cookie, "Accept-Language": "zh-CN"}
        where = ui.get("/setup?step=targets", headers=zh).text
        assert "可用 · 这台电脑自身磁盘上的文件夹" in where  # where it is, in Chinese
        wrong = post(
            "/setup/schedule", "incremental_every=weekly&incremental_day=sun&incremental_time=&full_every=off"
        )
        assert wrong.status == 400 and "HH:MM" in wrong.text
        assert sorted(p.name for p in (home / "profiles").iterdir()) == ["taken.toml"]  # nothing yet
        assert ui.bearer("/setup").status == 400  # the wizard is for a browser session


def test_a_running_job_is_cancelled_at_the_next_file(home: Path, tmp_path: Path, cli: Any) -> None:
    import time

    from tests.backupkit import make_files

    src = tmp_path / "Shoots"
    make_files(src, 300, size=300_000)
    (tmp_path / "drive").mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(tmp_path / "drive")}])
    with running_ui(home) as ui:
        job = ui.bearer("/api/jobs", "POST", body=json.dumps({"kind": "full"})).json()
        assert ui.bearer(f"/api/jobs/{job['id']}/cancel", "POST").status == 202
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            [doc] = ui.bearer("/api/jobs").json()["jobs"]
            if doc["state"] != "running":
                break
            time.sleep(0.1)
    assert doc["state"] == "cancelled", doc
    stored = list((tmp_path / "drive" / "lily" / "originals").rglob("*.jpg"))
    assert len(stored) < 300  # it stopped; what it finished stays finished (a later run goes on)
    assert cli("full", "-p", "lily").code == 0
    assert len(list((tmp_path / "drive" / "lily" / "originals").rglob("*.jpg"))) == 300


def test_a_body_larger_than_a_form_is_refused(ui: Ui) -> None:
    cookie, csrf = session_of(ui)
    big = "x" * (1024 * 1024 + 1)
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded"}
    assert ui.request("POST", "/lang", headers=headers, body=f"lang=en&pad={big}").status == 413
    assert ui.bearer("/api/jobs", "POST", body=big).status == 413
    chunked = {"Authorization": f"Bearer {ui.token}", "Transfer-Encoding": "chunked"}
    conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=60)
    conn.request("POST", "/api/jobs", body=iter([b'{"kind": "full"}']), headers=chunked)
    assert conn.getresponse().status == 411
    conn.close()
    assert ui.bearer("/api/jobs").json()["jobs"] == []  # nothing was started


def test_thumbnails_only_of_the_inventory(ui: Ui, backed_up: Path) -> None:
    from tests.kit.hashing import file_sha256

    sha = file_sha256(sorted(backed_up.rglob("*.jpg"))[0])
    first = ui.bearer(f"/api/thumbnails/{sha}")
    assert (
        first.status == 200 and first.header("content-type") == "image/jpeg" and first.body[:2] == b"\xff\xd8"
    )
    assert "immutable" in (first.header("cache-control") or "")
    assert ui.bearer(f"/api/thumbnails/{sha}").body == first.body  # from the cache
    assert ui.bearer(f"/api/thumbnails/{sha}?size=1280").status == 200
    assert ui.bearer(f"/api/thumbnails/{'0' * 64}").status == 404
    assert ui.bearer("/api/thumbnails/not-a-hash").status == 400
    assert ui.bearer("/api/thumbnails/..%2f..%2fetc%2fpasswd").status in (400, 404)
    assert ui.bearer(f"/api/thumbnails/{sha}?size=99").status == 400
    assert ui.get(f"/api/thumbnails/{sha}").status == 401
