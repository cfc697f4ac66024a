"""Every message of the app's pages and code (and every sentence of the use cases, ``said``) has
its Simplified Chinese translation, and the
catalog holds no message the app no longer uses; a page is in the language the creator chose,
else the browser's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.extract import extract, extract_from_dir
from babel.messages.pofile import read_po

from backup.web import i18n

WEB = Path(i18n.__file__).resolve().parent
CATALOG = WEB / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"


def used_messages() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map=method_map, options_map=options
    ):
        found.add(message if isinstance(message, str) else message[0])
    # the use cases' sentences the pages show (check findings): every said("...") of backup/app
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB.parent / "app"), method_map=[("**.py", "python")], keywords={"said": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    # the daemon's log messages, which the activity feed shows
    found |= log_messages()
    return found


def log_messages() -> set[str]:
    """Every message the daemon logs (``log.info("...", ...)``, warning, error): in backup/daemon
    and the daemon's jobs, backup/app/watch.py."""
    keywords: dict[str, Any] = {"info": None, "warning": None, "error": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB.parent / "daemon"), method_map=[("**.py", "python")], keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    with open(WEB.parent / "app" / "watch.py", "rb") as f:
        for _line, message, _comments, _context in extract("python", f, keywords=keywords):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_its_chinese_and_none_is_stale() -> None:
    with open(CATALOG, "rb") as f:
        catalog = {m.id: m.string for m in read_po(f) if m.id}
    used = used_messages()
    assert len(used) > 50
    assert sorted(m for m in used if not catalog.get(m)) == []
    assert sorted(set(catalog) - used) == []


def test_translations_load_and_translate() -> None:
    zh = i18n.translations("zh-CN")
    assert zh.gettext("Health") == "健康状况"
    assert i18n.translations("en").gettext("Health") == "Health"


def test_the_page_language() -> None:
    assert i18n.pick(None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert i18n.pick(None, "en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert i18n.pick(None, "fr-FR, zh;q=0.5") == "zh-CN"
    assert i18n.pick(None, "zh-TW") == "en"  # Traditional Chinese readers are not given Simplified
    assert i18n.pick(None, "zh-Hant-HK,en;q=0.5") == "en"
    assert i18n.pick(None, "zh-Hans-SG") == "zh-CN"
    assert i18n.pick(None, None) == "en"
    assert i18n.pick("zh-CN", "en") == "zh-CN"  # the creator's choice first
    assert i18n.pick("xx", "zh-CN") == "zh-CN"


def test_the_other_commands_never_load_the_web_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from backup.cli.main import run\n"
        "try:\n    run(['status', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2', 'babel', 'backup.web') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip().splitlines()[-1] == "[]", done


def test_passwords_are_kept_as_scrypt_hashes() -> None:
    import pytest

    from backup.errors import UsageError
    from backup.web.security import check_password, hash_password

    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$32768$8$1$") and "correct" not in stored
    assert check_password("correct horse battery", stored)
    assert not check_password("correct horse batterx", stored)
    assert hash_password("correct horse battery") != stored  # a new salt each time
    assert not check_password("anything", "md5$garbage")
    with pytest.raises(UsageError, match="too short"):
        hash_password("short")


def test_the_hosts_answered() -> None:
    from backup.web.security import Guard

    guard = Guard(8123)
    assert guard.host_allowed("127.0.0.1:8123") and guard.host_allowed("LOCALHOST:8123")
    for bad in (None, "", "127.0.0.1", "127.0.0.1:8124", "evil.example:8123", "127.0.0.1:8123.evil.example"):
        assert not guard.host_allowed(bad)
    lan = Guard(8123, "192.168.1.20", password_hash="x")
    assert lan.host_allowed("192.168.1.20:8123") and not lan.host_allowed("192.168.1.21:8123")


def test_on_every_address_its_own_addresses_are_answered_never_a_name() -> None:
    from backup.web.security import Guard, own_addresses

    mine = own_addresses()
    assert "127.0.0.1" in mine
    everywhere = Guard(8123, "0.0.0.0", password_hash="x")
    assert all(everywhere.host_allowed(f"{ip}:8123") for ip in mine)
    stranger = next(f"198.51.100.{n}" for n in range(1, 255) if f"198.51.100.{n}" not in mine)
    assert not everywhere.host_allowed("evil.example:8123") and not everywhere.host_allowed(
        f"{stranger}:8123"
    )


def test_heavy_work_is_one_at_a_time_in_its_lane_and_a_prove_does_not_hold_pages_up() -> None:
    """Two pages' work never overlaps (the second starts when the first has ended); a suspect
    being proved runs beside them: the page's work is done while the prove still waits for it."""
    import asyncio
    import threading

    from backup.web.context import PROVING, heavy

    said: list[str] = []
    page_done = threading.Event()

    def page(name: str) -> str:
        said.append(f"{name} starts")
        threading.Event().wait(0.05)
        said.append(f"{name} ends")
        return name

    def proving() -> str:
        assert page_done.wait(60), "the page's work waited for the prove"
        return "proved"

    def quick_page() -> str:
        page_done.set()
        return "page"

    async def main() -> tuple[object, ...]:
        both = await asyncio.gather(heavy(lambda: page("a")), heavy(lambda: page("b")))
        proof = asyncio.ensure_future(heavy(proving, PROVING))
        await asyncio.sleep(0.01)  # the prove is under way in its own lane
        return (*both, await heavy(quick_page), await proof)

    assert asyncio.run(main()) == ("a", "b", "page", "proved")
    assert said in (
        ["a starts", "a ends", "b starts", "b ends"],
        ["b starts", "b ends", "a starts", "a ends"],
    )


def test_the_daemons_log_lines_in_the_page_language(tmp_path: Path) -> None:
    """The daemon writes each log record twice: the log's line, and a JSON line with the message's
    words and facts; the activity feed gives the same line, and the message in Chinese."""
    from backup.daemon import logs
    from backup.web.jobs import _activity

    log = logs.setup(tmp_path, foreground=False)
    try:
        log.info("stamped %s -> %s", "/a/IMG_1.jpg", "/b/IMG_1.jpg")
        log.info("%d files through the pipeline", 3)
        log.info("reconciliation done")
        log.info("watching %s for profile %s (%s, settle %.1f s); pid %d", "/s", "lily", "native", 2.0, 42)
    finally:
        logs.close()
    plain = (tmp_path / logs.LOG_NAME).read_text(encoding="utf-8").splitlines()
    docs = [
        _activity(line) for line in (tmp_path / logs.ACTIVITY_NAME).read_text(encoding="utf-8").splitlines()
    ]
    assert [d["line"] for d in docs] == plain  # the log's own lines
    assert [i18n.logged(d["words"], d["facts"], "en") for d in docs] == [p.split(" ", 3)[3] for p in plain]
    assert [i18n.logged(d["words"], d["facts"], "zh-CN") for d in docs] == [
        "已加水印 /a/IMG_1.jpg → /b/IMG_1.jpg",
        "已处理 3 个文件",
        "核对完成",
        "正在监视 /s（账号 lily，native，稳定等待 2.0 秒）；进程 42",
    ]
    assert i18n.logged("%d files through the pipeline", ["many"], "zh-CN") is None  # facts that do not fit
    assert _activity("not json") == {"event": "daemon", "line": "not json"}
