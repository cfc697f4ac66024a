"""The evidence's two languages: English and Simplified Chinese.

``pick`` chooses the language of a bundle (``--lang``, else the profile's ``[account]
language``); the rest are the small texts ``report.html``, ``notice.txt`` and the other texts of
a bundle share, in both languages: times as a person reads them (in this computer's local time
with its offset, the stored UTC time kept beside it where it is evidence), blanks for what the
creator fills in, and the phrases that state a fact of the evidence (a trusted timestamp, a
signed checkpoint, a match).

Hashes, file names, URLs, the authority's name and the stored times are never translated: they
are evidence, and a reader compares them character by character with ``evidence.json``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backup.errors import UsageError
from backup.profile.fields import near_language
from backup.profile.model import LANGUAGES

LANGS: tuple[str, ...] = LANGUAGES  # ("en", "zh")
NAMES = {"en": "English", "zh": "简体中文"}
HTML_LANG = {"en": "en", "zh": "zh-CN"}
BLANKS = {"en": "[fill in]", "zh": "[待填写]"}


def pick(lang: str | None, profile_lang: str) -> str:
    """The language to write in: ``lang`` (from ``--lang``) when given, else the profile's.
    A value that is neither ``en`` nor ``zh`` is refused with one line naming ``--lang``."""
    chosen = profile_lang if lang is None else lang
    if chosen in LANGS:
        return chosen
    near = near_language(chosen)
    hint = f'did you mean "{near}"? ' if near else ""
    what = "--lang" if lang is not None else "account.language"
    raise UsageError(
        f"{what} {chosen!r}: not a language of the evidence; {hint}"
        'use "en" (English) or "zh" (Simplified Chinese)'
    )


def blank(lang: str) -> str:
    """What marks a fact the creator must fill in: ``[fill in]``, ``[待填写]``."""
    return BLANKS[lang]


def _parse(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def day(stamp: str | None, lang: str) -> str:
    """A date alone: ``2026-05-15`` in English, ``2026年5月15日`` in Chinese. A full time gives
    its local date; text that is not a date is returned as written."""
    if not stamp:
        return ""
    moment = _parse(stamp if len(stamp) != 10 else stamp + "T00:00:00")
    if moment is None:
        return stamp
    if moment.tzinfo is not None and len(stamp) != 10:
        moment = moment.astimezone()
    return f"{moment.year}年{moment.month}月{moment.day}日" if lang == "zh" else moment.strftime("%Y-%m-%d")


def when(stamp: str | None, lang: str) -> str:
    """A stored time as a person reads it, in this computer's local time with its offset:
    ``2026-05-14T06:03:12Z`` is ``2026-05-14 14:03 (UTC+08:00)`` / ``2026年5月14日 14:03
    (UTC+08:00)`` in Shanghai. A time without an offset (a camera's clock) is shown as written,
    without one; a date alone as a date; text that is not a time, unchanged."""
    if not stamp:
        return ""
    if len(stamp) == 10:
        return day(stamp, lang)
    moment = _parse(stamp)
    if moment is None:
        return stamp
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    if moment.tzinfo is None:
        return f"{day(moment.isoformat(), lang)} {clock}"
    local = moment.astimezone()
    offset = local.strftime("%z") or "+0000"
    return (
        f"{day(local.isoformat(), lang)} {local.hour:02d}:{local.minute:02d} (UTC{offset[:3]}:{offset[3:5]})"
    )


def evidence_time(stamp: str | None, lang: str) -> str:
    """A time that is evidence: the local reading and the stored time exactly as
    ``evidence.json`` has it, e.g. ``2026年5月14日 14:03 (UTC+08:00)，记录为 2026-05-14T06:03:12Z``."""
    if not stamp:
        return ""
    shown = when(stamp, lang)
    if shown == stamp or _parse(stamp) is None or len(stamp) == 10:
        return shown
    return f"{shown}，记录为 {stamp}" if lang == "zh" else f"{shown}; stored as {stamp}"


KIND = {
    "en": {"image": "photo", "video": "video", "other": "file"},
    "zh": {"image": "摄影作品（照片）", "video": "视听作品（视频）", "other": "作品文件"},
}


def kind(value: str, lang: str) -> str:
    """What the work is: ``photo``/``video`` in English, the Chinese terms of copyright law."""
    return KIND[lang].get(value, value)


def percent(value: Any) -> str:
    return f"{float(value):.0%}"


METHOD = {
    "en": {
        "exact": "byte-for-byte identical (same SHA-256)",
        "exact_copy": "byte-for-byte identical to the stamped copy {copy} made from it (same SHA-256)",
        "perceptual": "visually the same picture (perceptual hash)",
        "features": "the same picture, by matching local features with a geometric check",
        "video": "frames of the same video (perceptual hashes of frames, aligned in time)",
    },
    "zh": {
        "exact": "与原件逐字节完全相同（SHA-256 相同）",
        "exact_copy": "与由原件制作的加水印副本 {copy} 逐字节完全相同（SHA-256 相同）",
        "perceptual": "与原件为同一画面（感知哈希比对）",
        "features": "与原件为同一画面（局部特征点匹配，并经几何一致性校验）",
        "video": "与原件视频的画面帧一致（逐帧感知哈希，按时间对齐）",
    },
}


def method(match: dict[str, Any], lang: str) -> str:
    """How the suspect matched the original, in plain words."""
    copy = (match.get("details") or {}).get("derivative")
    name = str(match.get("method"))
    if name == "exact" and copy:
        return METHOD[lang]["exact_copy"].format(copy=copy.get("path") or copy.get("sha256"))
    return METHOD[lang].get(name, name)


def score(match: dict[str, Any], lang: str) -> str:
    """The match's distance or score and its confidence, in one phrase."""
    conf = percent(match["confidence"])
    if match.get("distance") is not None:
        if lang == "zh":
            return f"汉明距离 {match['distance']} 位，置信度 {conf}"
        return f"distance {match['distance']} bits, confidence {conf}"
    if lang == "zh":
        return f"匹配得分 {match.get('score')}，置信度 {conf}"
    return f"score {match.get('score')}, confidence {conf}"


def trusted_timestamp(stamp: dict[str, Any], lang: str) -> str:
    """``trusted timestamp by AUTHORITY at TIME (serial N)``: a checkpoint's RFC 3161 token."""
    at = evidence_time(stamp["time"], lang)
    if lang == "zh":
        return f"由 {stamp['authority']} 签发的可信时间戳（RFC 3161），时间 {at}，序列号 {stamp['serial']}"
    return f"trusted timestamp by {stamp['authority']} at {at} (RFC 3161, serial {stamp['serial']})"


def no_timestamp(state: Any, lang: str) -> str:
    """What a checkpoint without a token has instead: a request waiting, or no authority."""
    if state == "pending":
        return (
            "时间戳请求待发送（签发机构尚未答复）" if lang == "zh" else "waiting to be sent to the authority"
        )
    return "未配置时间戳签发机构" if lang == "zh" else "none configured"


def first_stamp(ev: dict[str, Any]) -> dict[str, Any] | None:
    """The earliest trusted timestamp of the bundle's checkpoints, or None."""
    return next((cp["timestamp"] for cp in ev["checkpoints"] if isinstance(cp.get("timestamp"), dict)), None)


def entries(n: int, lang: str) -> str:
    if lang == "zh":
        return f"{n:,} 条账本记录"
    return "1 ledger entry" if n == 1 else f"{n:,} ledger entries"


def file_name(original: dict[str, Any]) -> str:
    """The original's file name (its first path's last part), or its SHA-256 when it has none."""
    paths = original.get("paths") or []
    return str(paths[0]).replace("\\", "/").rsplit("/", 1)[-1] if paths else str(original["sha256"])


def publication(p: dict[str, Any], lang: str) -> str:
    """One publication record in one line: platform, date, link (or its absence)."""
    zh = lang == "zh"
    link = p.get("url") or ("（未记录链接）" if zh else "(no link recorded)")
    if not p.get("url") and p.get("export_sha256"):
        link = (
            f"见平台导出的数据，发布文件 SHA-256 {p['export_sha256']}"
            if zh
            else f"in the platform's data export, published file SHA-256 {p['export_sha256']}"
        )
    date = day(p.get("date"), lang) if p.get("date") else ("日期未记录" if zh else "date not recorded")
    platform = p.get("platform") or "?"
    return f"{platform}，{date}：{link}" if zh else f"{platform}, {date}: {link}"
