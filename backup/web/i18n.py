"""The app's languages: English (the messages as written) and Simplified Chinese, from a gettext
catalog (``locale/zh_CN/LC_MESSAGES/messages.po``) read with Babel when the app starts.

A page's language is the one the creator chose (kept in the session and a cookie), else the
first of the browser's ``Accept-Language`` that the app has, else English.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
DEFAULT = "en"
_CATALOGS = {"zh-CN": "zh_CN"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The translations of ``lang`` (English: the messages themselves)."""
    folder = _CATALOGS.get(lang)
    if folder is None:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=folder)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def logged(words: Any, facts: Any, lang: str) -> str | None:
    """A daemon log message (its %-format ``words`` and the ``facts`` that fill it) in ``lang``;
    English when the translation does not take the facts; None without words."""
    if not isinstance(words, str) or not words:
        return None
    said = translations(lang).gettext(words)
    if not facts:
        return said  # the log formats a message only when it has arguments
    for form in (said, words):
        try:
            return form % tuple(facts)
        except (TypeError, ValueError):
            continue
    return None


def pick(chosen: str | None, accept_language: str | None) -> str:
    """The language of a page: the creator's choice, else the browser's, else English."""
    if chosen in LANGUAGES:
        return chosen
    for lang, _q in _ranked(accept_language or ""):
        tags = lang.replace("_", "-").split("-")
        if tags[0] == "zh" and not {"tw", "hk", "mo", "hant"} & set(tags[1:]):
            return "zh-CN"  # Traditional Chinese readers are not given Simplified
        if lang.startswith("en"):
            return "en"
    return DEFAULT


def _ranked(header: str) -> list[tuple[str, float]]:
    out = []
    for part in header.split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang:
            out.append((lang.lower(), q))
    return sorted(out, key=lambda item: -item[1])
