"""Changing one section of an existing profile in place (the app's watermark designer, the
choice of a timestamp authority): the keys given are set or removed, and everything else of the
file stays as the creator wrote it: comments, order, other keys and sections."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*=\s*(.*?)\s*$")


def _toml_value(value: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def _value_end(rest: str) -> int | None:
    """Where the value that starts ``rest`` ends (a comment may follow); None when it does not
    end on this line."""
    for i in [m.start() for m in re.finditer("#", rest)] + [len(rest)]:
        try:
            tomllib.loads("v = " + rest[:i])
        except tomllib.TOMLDecodeError:
            continue
        return i
    return None


def with_keys(text: str, section: str, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``text`` with ``values`` set in its ``[section]`` (see ``rewrite_section``), and what the
    new text reads as. ``tomllib.TOMLDecodeError`` when ``text`` is no TOML."""
    want = tomllib.loads(text)
    section_now = want.get(section)
    merged = {**(section_now if isinstance(section_now, dict) else {}), **values}
    want[section] = {k: v for k, v in merged.items() if v is not None}
    new = rewrite_section(text, section, values, want)
    return new, tomllib.loads(new)


def rewrite_section(text: str, section: str, values: Mapping[str, Any], want: dict[str, Any]) -> str:
    """``text`` (a TOML file) with the keys ``values`` names set in its ``[section]`` (None:
    removed), everything else as it was: comments, order, other keys and sections. ``want`` is
    what the whole file must then read as; when an unusual layout (a value over several lines,
    the section written as dotted keys) would not give it, the file is written out whole from
    ``want`` instead (its comments are then lost, its values kept)."""
    import tomli_w

    lines = text.splitlines(keepends=True)
    start = end = None
    for i, line in enumerate(lines):
        m = _HEADER.match(line.rstrip("\r\n"))
        if m is None:
            continue
        if start is not None:
            end = i
            break
        if not line.lstrip().startswith("[[") and m.group(1).strip().strip("\"'") == section:
            start = i
    new = _replaced(lines, start, end, section, values)
    if new is not None:
        try:
            if tomllib.loads(new) == want:
                return new
        except tomllib.TOMLDecodeError:
            pass
    return "# Keepmark profile (rewritten by Keepmark's app).\n" + tomli_w.dumps(want)


def _replaced(
    lines: list[str], start: int | None, end: int | None, section: str, values: Mapping[str, Any]
) -> str | None:
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if start is None:
        body = "".join(lines)
        if body and not body.endswith(("\n", "\r\n")):
            body += newline
        added = [f"{k} = {_toml_value(v)}{newline}" for k, v in values.items() if v is not None]
        return body + f"{newline}[{section}]{newline}" + "".join(added)
    stop = len(lines) if end is None else end
    inner = lines[start + 1 : stop]
    todo = dict(values)
    kept: list[str] = []
    for line in inner:
        m = _KEY.match(line.rstrip("\r\n"))
        key = m.group(2).strip("\"'") if m else ""
        if m is None or key not in todo:
            kept.append(line)
            continue
        rest = m.group(3)
        cut = _value_end(rest)
        if cut is None:
            return None  # a value over several lines: written out whole instead
        value = todo.pop(key)
        if value is None:
            continue
        comment = rest[cut:].strip()
        before = rest[:cut]
        gap = before[len(before.rstrip()) :] or " "
        ending = "\r\n" if line.endswith("\r\n") else "\n"
        kept.append(
            f"{m.group(1)}{m.group(2)} = {_toml_value(value)}{gap + comment if comment else ''}{ending}"
        )
    last = len(kept)
    while last > 0 and not kept[last - 1].strip():
        last -= 1
    added = [f"{k} = {_toml_value(v)}{newline}" for k, v in todo.items() if v is not None]
    kept[last:last] = added
    return "".join(lines[: start + 1] + kept + lines[stop:])
