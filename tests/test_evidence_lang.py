"""The evidence in the creator's language: report.html and notice.txt in Simplified Chinese and
in English, rendered from a real evidence document (real photos, a repost of one, a real
timestamp authority on 127.0.0.1, `backup prove --out` run as a user runs it); the profile's
`[account] language`; and `lang.pick`, which `--lang` goes through."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from backup.errors import UsageError
from backup.profile.load import toml_loads
from backup.proof import lang, notice, report
from tests.conftest import run_backup
from tests.kit.media import exif
from tests.kit.photos import photo
from tests.kit.tsa import LocalTSA

INSTAGRAM = "https://www.instagram.com/p/C7xYz12/"
REPOST = "https://www.xiaohongshu.com/explore/64f0a1b2000000001e03c7d9"
CONTACT = {"email": "lily@example.com", "phone": "", "address": "1 Harbour Road, Sydney"}


class Bundle:
    def __init__(self, folder: Path, suspect: Path, original: Path, env: dict[str, str]) -> None:
        self.folder, self.suspect, self.original, self.env = folder, suspect, original, env
        self.ev: dict[str, Any] = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    """Profile lily over real photos (with a camera's EXIF), timestamped by a local authority;
    one published on Instagram; a resized, recompressed repost of it proved with `--out`."""
    root = tmp_path_factory.mktemp("lang")
    authority = LocalTSA(root / "tsa")
    try:
        env = {"KEEPMARK_HOME": str(root / "home")}
        src = root / "Shoots"
        (src / "2026").mkdir(parents=True)
        original = src / "2026" / "chelsea.jpg"
        photo("chelsea.png").save(original, "JPEG", quality=92, exif=exif())
        photo("rocket.jpg").save(src / "2026" / "rocket.jpg", "JPEG", quality=92, exif=exif())
        r = run_backup(
            "init", "lily", "--account", "Lily Chen", "--handle", "lily.shoots", "--source", str(src), env=env
        )
        assert r.code == 0, r
        toml = root / "home" / "profiles" / "lily.toml"
        doc = toml_loads(toml.read_text(encoding="utf-8"))
        doc["proof"] = {
            **doc.get("proof", {}),
            "tsa_url": authority.url,
            "tsa_certificate": str(authority.ca_pem),
            "contact_email": "lily@example.com",
            "contact_address": "1 Harbour Road, Sydney",
        }
        toml.write_text(tomli_w.dumps(doc), encoding="utf-8")
        assert run_backup("inventory", "scan", "-p", "lily", env=env).code == 0
        r = run_backup(
            "publish", "add", str(original), "--platform", "Instagram", "--url", INSTAGRAM,
            "--date", "2026-05-15", "-p", "lily", env=env,
        )  # fmt: skip
        assert r.code == 0, r
        repost = root / "Downloads" / "repost.jpg"
        repost.parent.mkdir()
        im = photo("chelsea.png")
        im.resize((im.width // 2, im.height // 2)).save(repost, "JPEG", quality=45)
        out = root / "evidence"
        r = run_backup("prove", str(repost), "--out", str(out), "--url", REPOST, "-p", "lily", env=env)
        assert r.code == 0, r
        yield Bundle(out, repost, original, env)
    finally:
        authority.close()


@pytest.fixture
def east(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This computer in UTC+8 (a POSIX TZ: no time zone database needed)."""
    monkeypatch.setenv("TZ", "XST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Page(HTMLParser):
    """The headings and labels of a page (h1, h2, th, title) and its visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not data.strip() or "style" in self._in:
            return
        if self._in and self._in[-1] in ("h1", "h2", "th", "title"):
            self.labels.append(data.strip())
        if "pre" not in self._in and "code" not in self._in:
            self.text.append(data.strip())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


ENGLISH_HEADINGS = (
    "Evidence of ownership",
    "Timeline",
    "The original",
    "The suspect",
    "The record and its seal",
    "How to verify",
)


def english_left(html: str, ev: dict[str, Any]) -> list[str]:
    """Runs of two or more English words in the page's visible text once the evidence (hashes,
    paths, URLs, names, file names, stored times) is taken out, and the names of things
    (RFC 3161, OpenSSL, Instagram ...) are allowed."""
    o, s = ev["original"], ev["suspect"]
    evidence = [o["sha256"], s["sha256"], *o["paths"], s.get("url") or "", INSTAGRAM, "CN=Keepmark Test TSA"]
    evidence += [ev["account"]["name"], "Apple iPhone 15 Pro", s["file"], "chelsea.jpg", "suspect.jpg"]
    copy_of = (ev["match"].get("details") or {}).get("derivative")
    evidence += [copy_of["path"]] if copy_of else []
    visible = " ".join(parse(html).text)
    for token in sorted(filter(None, evidence), key=len, reverse=True):
        visible = visible.replace(token, " ")
    visible = re.sub(r"\b[0-9a-f]{16,}\b|\d{4}-\d\d-\d\dT[\d:.]+Z|@[\w.]+", " ", visible)
    left = re.findall(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,})+", visible)
    names = {"RFC", "Keepmark", "OpenSSL", "Ed25519", "SHA", "Instagram", "pHash", "UTC", "Merkle", "drive"}
    return [w for w in left if not set(w.split()) <= names]


def test_the_chinese_report_has_no_english_left(bundle: Bundle, east: None) -> None:
    ev = bundle.ev
    en = report.render(ev, str(bundle.suspect), str(bundle.original), "en")
    zh = report.render(ev, str(bundle.suspect), str(bundle.original), "zh")
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    labels = [t for t in parse(en).labels if t != "SHA-256" and not t.endswith(bundle.suspect.name)]
    assert set(ENGLISH_HEADINGS) <= set(labels) and "First recorded" in labels
    for heading in labels:
        assert heading not in zh, heading
    # Every heading and label is Chinese (but SHA-256, which is a name).
    for label in parse(zh).labels:
        assert label == "SHA-256" or re.search(r"[\u4e00-\u9fff]", label), label
    # Every sentence too.
    assert english_left(zh, ev) == []
    assert english_left(en, ev)  # (the check sees English where there is some)
    # The facts are there, in Chinese words and local times, the stored times kept.
    o = ev["original"]
    stamp = ev["checkpoints"][0]["timestamp"]
    for text in (
        "时间线",
        "首次登记时间",
        "拍摄，设备 Apple iPhone 15 Pro",
        "发布于 Instagram",
        f"由 {stamp['authority']} 加盖可信时间戳",
        f"由 {stamp['authority']} 签发的可信时间戳",
        f"记录为 {o['first_seen']}",
        "2026年5月14日 19:42",
        "(UTC+08:00)",
        o["sha256"],
        "backup prove --verify",
        "openssl ts -verify",
        "@media print",
    ):
        assert text in zh, text
    assert zh.count("data:image/jpeg;base64,") == 2


def test_every_kind_of_fact_is_said_in_chinese(bundle: Bundle, east: None) -> None:
    """The other shapes a bundle takes: an exact copy of a stamped copy, a part of a video, a
    window of the original, timestamps pending or absent, a publication from a platform's export
    (no link), a backup target with several snapshots."""
    ev = copy.deepcopy(bundle.ev)
    stamped = {"path": "/Users/lily/Stamped/chelsea-wm.jpg", "sha256": "ab" * 32}
    details = {"derivative": stamped, "time_range": [1.0, 3.5], "window": "topleft75"}
    ev["match"] = {**ev["match"], "method": "exact", "distance": 0, "confidence": 1.0, "details": details}
    ev["checkpoints"][0]["timestamp"] = "pending"
    for cp in ev["checkpoints"][1:]:
        cp["timestamp"] = None
    export = {"platform": "Instagram", "date": "2026-06-01", "url": None, "export_sha256": "cd" * 32}
    ev["original"]["publications"].append(export)
    snapshot = {
        "id": "20261201T000000Z-full-drive",
        "kind": "full",
        "recorded": "2026-12-01T00:00:00Z",
        "seq": 5,
    }
    ev["backups"] = [{"target": "drive", "keys": ["originals/x"], "snapshots": [snapshot], "count": 4}]
    zh = report.render(ev, str(bundle.suspect), None, "zh")
    assert english_left(zh, ev) == []
    for text in (
        "与由原件制作的加水印副本 /Users/lily/Stamped/chelsea-wm.jpg 逐字节完全相同",
        "它取自原视频第 1.0-3.5 秒",
        "已用虚线框标出",
        "时间戳请求待发送",
        "未配置时间戳签发机构",
        f"见平台导出的数据：发布文件 SHA-256 {'cd' * 32}",
        "drive（4 个快照）",
        "（无法显示图片：此处读不到该文件）",
    ):
        assert text in zh, text
    en = report.render(ev, str(bundle.suspect), None, "en")
    assert "drive (4 snapshots)" in en and "waiting to be sent" in en and "none configured" in en


def test_the_english_report_keeps_its_facts_with_local_times(bundle: Bundle, east: None) -> None:
    ev = bundle.ev
    en = report.render(ev, str(bundle.suspect), str(bundle.original))
    o = ev["original"]
    first = lang.when(o["first_seen"], "en")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+08:00\)", first), first
    for text in (
        "Taken with Apple iPhone 15 Pro",
        f"{first}; stored as {o['first_seen']}",
        "Published on Instagram: " + INSTAGRAM,
        "timestamped by CN=Keepmark Test TSA",
        "trusted timestamp by CN=Keepmark Test TSA at",
        "2026-05-14 19:42",
    ):
        assert text in en, text
    assert not re.search(r"[\u4e00-\u9fff]", en)
    # The report in the bundle is the one rendered in the profile's language (English here).
    assert (bundle.folder / "report.html").read_text(encoding="utf-8").startswith(en[:60])


def test_the_chinese_notice_is_a_xiaohongshu_complaint(bundle: Bundle, east: None) -> None:
    ev = bundle.ev
    text = notice.render(ev, CONTACT, "zh")
    o, stamp = ev["original"], ev["checkpoints"][0]["timestamp"]
    for part in (
        "侵权投诉通知书",
        "致：小红书",
        "一、权利人信息",
        "二、作品及权属证明",
        "三、侵权内容",
        "四、声明",
        "五、签名",
    ):
        assert part in text, part
    assert (
        text.index("一、") < text.index("二、") < text.index("三、") < text.index("四、") < text.index("五、")
    )
    for fact in (
        f"原件 SHA-256：{o['sha256']}",
        f"首次登记时间：{lang.when(o['first_seen'], 'zh')}，记录为 {o['first_seen']}",
        f"由 {stamp['authority']} 签发的可信时间戳（RFC 3161），时间 {lang.when(stamp['time'], 'zh')}",
        f"序列号 {stamp['serial']}",
        f"Instagram，2026年5月15日：{INSTAGRAM}",
        f"      - {REPOST}",
        "电子邮箱：lily@example.com",
        "联系地址：1 Harbour Road, Sydney",
        "联系电话：[待填写]",
        "权利人姓名（名称）：[待填写]（与身份证件一致；账号名称：Lily Chen，@lily.shoots）",
        "本人善意地相信",
        "本人保证本通知及所附材料的内容真实、准确，本人是上述作品的著作权人（或经著作权人授权",
        "权利人（签名）：______________________________",
        "日期：______________________________",
        "拍摄设备 Apple iPhone 15 Pro",
    ):
        assert fact in text, fact
    assert re.search(r"首次登记时间：\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d \(UTC\+08:00\)", text), text
    assert "[fill in]" not in text and "good faith" not in text

    # No timestamp authority, no URL, no publication: said plainly, blanks where facts are missing.
    bare = copy.deepcopy(ev)
    for cp in bare["checkpoints"]:
        cp["timestamp"] = None
    bare["suspect"]["url"] = None
    bare["original"]["publications"] = []
    text = notice.render(bare, {}, "zh")
    assert "可信时间戳：无。登记记录的时间取自权利人自己的电脑" in text
    assert "      - [待填写]（侵权笔记的链接）" in text and "      - [待填写]（首次发布的平台" in text
    assert "电子邮箱：[待填写]" in text and stamp["authority"] not in text


def test_the_english_notice_has_every_dmca_element_and_the_platforms_forms(bundle: Bundle) -> None:
    ev = bundle.ev
    text = notice.render(ev, CONTACT)
    assert text == notice.render(ev, CONTACT, "en")
    o = ev["original"]
    # 17 U.S.C. 512(c)(3)(A): (i) signature, (ii) the work, (iii) the infringing material and where
    # it is, (iv) contact information, (v) good faith, (vi) accuracy and authority under perjury.
    for element in (
        "Signed: ______________________________",
        f"SHA-256 of the original file: {o['sha256']}",
        f"first recorded in my content inventory on {lang.when(o['first_seen'], 'en')}",
        "trusted timestamp by CN=Keepmark Test TSA",
        f"Instagram, 2026-05-15: {INSTAGRAM}",
        f"     - {REPOST}",
        "I request that it be removed or access to it be disabled",
        "Email:      lily@example.com",
        "Address:    1 Harbour Road, Sydney",
        "Phone:      [fill in]",
        "Legal name: [fill in]",
        "I have a good faith belief that use of the material in the manner complained of is not\n"
        "   authorized by the copyright owner, its agent, or the law.",
        "The information in this notice is accurate, and under penalty of perjury, I am the owner",
    ):
        assert element in text, element
    forms = text[text.index("6. What the platforms' copyright forms ask") :]
    for platform in ("Instagram", "YouTube", "TikTok"):
        part = forms[forms.index(f"\n   {platform} (") :].lstrip("\n")
        part = part[: part.index("\n\n")] if "\n\n" in part else part
        for asks in ("full", "address", "phone", "email", "links" if platform != "YouTube" else "URL"):
            assert asks in part, (platform, asks)
        for section in ("section 1", "section 2", "section 3", "section 4", "section 5"):
            assert section in part or section.replace("section", "sections") in part, (platform, section)
        assert "statements" in part and "signature" in part and "description" in part, platform
    assert "[待填写]" not in text
    # A legal name the caller knows is used.
    assert "Legal name: Lily Chen\n" in notice.render(ev, {**CONTACT, "name": "Lily Chen"})


def test_the_notice_in_the_bundle_is_filled_from_the_profile(bundle: Bundle) -> None:
    text = (bundle.folder / "notice.txt").read_text(encoding="utf-8")
    assert "COPYRIGHT INFRINGEMENT NOTICE" in text and bundle.ev["original"]["sha256"] in text
    assert "lily@example.com" in text and REPOST in text


def test_local_times_in_both_languages(east: None) -> None:
    assert lang.when("2026-05-14T06:03:12.598092Z", "zh") == "2026年5月14日 14:03 (UTC+08:00)"
    assert lang.when("2026-05-14T06:03:12.598092Z", "en") == "2026-05-14 14:03 (UTC+08:00)"
    assert lang.when("2026-05-14T19:42:10", "zh") == "2026年5月14日 19:42"  # a camera's clock
    assert lang.when("2026-05-15", "zh") == "2026年5月15日" and lang.when("2026-05-15", "en") == "2026-05-15"
    assert lang.when("soon", "zh") == "soon" and lang.when(None, "en") == ""
    assert (
        lang.evidence_time("2026-12-31T20:00:00Z", "zh")
        == "2027年1月1日 04:00 (UTC+08:00)，记录为 2026-12-31T20:00:00Z"
    )
    assert lang.evidence_time("2026-12-31T20:00:00Z", "en") == (
        "2027-01-01 04:00 (UTC+08:00); stored as 2026-12-31T20:00:00Z"
    )


def test_pick_the_language() -> None:
    assert lang.LANGS == ("en", "zh")
    assert lang.pick(None, "zh") == "zh" and lang.pick(None, "en") == "en"
    assert lang.pick("en", "zh") == "en" and lang.pick("zh", "en") == "zh"
    for bad, near in (("zh-CN", "zh"), ("cn", "zh"), ("EN", "en"), ("english", "en"), ("fr", None)):
        with pytest.raises(UsageError) as caught:
            lang.pick(bad, "en")
        message = str(caught.value)
        assert message.startswith(f"--lang {bad!r}") and '"en"' in message and '"zh"' in message
        assert "\n" not in message
        assert (f'did you mean "{near}"?' in message) == (near is not None), message


def write_language(home: Path, value: str) -> None:
    toml = home / "profiles" / "lily.toml"
    text = re.sub(r"(?m)^language = .*\n", "", toml.read_text(encoding="utf-8"))
    toml.write_text(text.replace("[account]\n", f"[account]\nlanguage = {value}\n", 1), encoding="utf-8")


def test_the_profile_language(home: Path, profile: str) -> None:
    from backup.profile.load import load

    assert load(profile).account.language == "en"  # the default
    write_language(home, '"zh"')
    assert load(profile).account.language == "zh"
    doc = run_backup("profile", "show", "-p", profile, "--json").json()
    assert doc["settings"]["account"]["language"] == "zh"
    assert run_backup("profile", "check", "-p", profile).code == 0

    for value, near in (('"zh-CN"', "zh"), ('"chinese"', "zh"), ('"en_US"', "en"), ('"de"', None)):
        write_language(home, value)
        r = run_backup("profile", "check", "-p", profile)
        assert r.code == 2, r
        [line] = r.err.strip().splitlines()
        assert "account.language" in line and "is not one of en, zh" in line, line
        assert (f'did you mean "{near}"?' in line) == (near is not None), line
        r = run_backup("profile", "show", "-p", profile)  # every command refuses it
        assert r.code == 2 and "account.language" in r.err, r
    write_language(home, "1")
    r = run_backup("profile", "check", "-p", profile)
    assert r.code == 2 and "account.language: must be text" in r.err, r


def test_prove_writes_the_bundle_in_the_language_asked(bundle: Bundle, tmp_path: Path) -> None:
    """`backup prove --lang zh` (and the profile's language when no --lang is given): the report
    and the notice of the bundle are Chinese, and the bundle verifies."""
    out = tmp_path / "zh"
    args = ("prove", str(bundle.suspect), "--url", REPOST, "-p", "lily")
    r = run_backup(*args, "--out", str(out), "--lang", "zh", env=bundle.env)
    assert r.code == 0, r
    html = (out / "report.html").read_text(encoding="utf-8")
    text = (out / "notice.txt").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "<h2>时间线</h2>" in html
    assert text.startswith("侵权投诉通知书") and REPOST in text and "权利人（签名）" in text
    assert run_backup("prove", "--verify", str(out), env=bundle.env).code == 0

    r = run_backup(*args, "--out", str(tmp_path / "fr"), "--lang", "fr", env=bundle.env)
    assert r.code == 2 and "--lang 'fr'" in r.err and len(r.err.strip().splitlines()) == 1, r
    assert not (tmp_path / "fr").exists()

    toml = Path(bundle.env["KEEPMARK_HOME"]) / "profiles" / "lily.toml"
    before = toml.read_text(encoding="utf-8")
    try:
        toml.write_text(before.replace("[account]\n", '[account]\nlanguage = "zh"\n', 1), encoding="utf-8")
        r = run_backup(*args, "--out", str(tmp_path / "default"), env=bundle.env)
        assert r.code == 0, r
        assert (tmp_path / "default" / "notice.txt").read_text(encoding="utf-8").startswith("侵权投诉通知书")
        r = run_backup(*args, "--out", str(tmp_path / "en"), "--lang", "en", env=bundle.env)
        assert r.code == 0, r
        assert '<html lang="en">' in (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    finally:
        toml.write_text(before, encoding="utf-8")
