"""The use cases' sentences (``Said``): the command line prints them in English as they always
were; the browser app translates the words and fills the blanks with the exact facts, and falls
back to English when a translation's blanks do not match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backup.app.said import Said, said, say
from backup.web import i18n
from tests.backupkit import write_profile


def test_a_sentence_in_english_and_translated_with_its_facts_exact() -> None:
    last = said("{days} days ago", days=3)
    sentence = said("{target}: no verify within {n} days (last {last})", target="drive", n=32, last=last)
    assert str(sentence) == "drive: no verify within 32 days (last 3 days ago)"
    doc = sentence.as_dict()
    assert doc["facts"]["last"] == {"words": "{days} days ago", "facts": {"days": 3}}
    table = {"{target}: no verify within {n} days (last {last})": "{target}：{n} 天内未校验（上次：{last}）"}
    table["{days} days ago"] = "{days} 天前"
    assert say(doc, lambda w: table.get(w, w)) == "drive：32 天内未校验（上次：3 天前）"
    assert say(doc, lambda w: w) == str(sentence)  # English: the words themselves


def test_braces_in_a_fact_stay_as_they_are() -> None:
    s = said("add to {file}: {keys}", file="/Users/{me}/lily.toml", keys="tsa_url = '{x}'")
    assert str(s) == "add to /Users/{me}/lily.toml: tsa_url = '{x}'"
    assert (
        say(s.as_dict(), lambda w: "在 {file} 中添加：{keys}")
        == "在 /Users/{me}/lily.toml 中添加：tsa_url = '{x}'"
    )


def test_a_translation_with_other_blanks_falls_back_to_english() -> None:
    doc = Said("{target} is full", {"target": "drive"}).as_dict()
    assert say(doc, lambda w: "{名字} 已满") == "drive is full"
    assert say(doc, lambda w: "{0} 已满") == "drive is full"
    assert say(doc, lambda w: "{target 已满") == "drive is full"


def test_every_finding_is_said_as_the_cli_prints_it_and_in_chinese(home: Path, tmp_path: Path) -> None:
    """A profile with one local target on the photos' own disk, never backed up: the findings'
    ``said`` give back the CLI's words exactly, and every one of them reads in Chinese."""
    from backup.app.check import check_profile
    from backup.app.profiles import load

    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(tmp_path / "drive")}])
    report = check_profile(load("lily"))
    checks = {f["check"] for f in report.findings}
    assert {"targets", "same disk", "last incremental", "last full", "verify", "trusted timestamp"} <= checks
    zh = i18n.translations("zh-CN")
    for f in report.findings:
        english: dict[str, Any] = f["said"]
        assert say(english["problem"], lambda w: w) == f["problem"]
        assert say(english["fix"], lambda w: w) == f["fix"]
        chinese = say(english["problem"], zh.gettext)
        assert chinese != f["problem"] and any("\u4e00" <= c <= "\u9fff" for c in chinese), f
    [targets] = [f for f in report.findings if f["check"] == "targets"]
    assert targets["problem"].endswith("the profile has 1 target, 0 off-site")
    assert say(targets["said"]["problem"], zh.gettext).endswith("当前账号有 1 个备份位置，异地 0 个")
    [verify] = [f for f in report.findings if f["check"] == "verify"]
    assert say(verify["said"]["problem"], zh.gettext) == "drive：32 天内没有回读校验过数据（上次：从未）"
