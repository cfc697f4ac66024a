"""Reading a profile's values, each checked as it is read: the text, number, whole number,
boolean, choice or path it must be, in the range it must be in. Every problem is collected
with its key (``targets[2].bucket``), what is wrong and how to fix it; a value of the wrong type
is refused, never replaced by its default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from backup.errors import Problem


def did_you_mean(key: str, options: tuple[str, ...] | list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "known keys here: " + ", ".join(options)


def near_language(value: str) -> str | None:
    """The evidence language (``en`` or ``zh``) a near miss means: ``zh-CN``, ``zh_Hans``,
    ``cn``, ``chinese``, ``中文`` mean ``zh``; ``en-US``, ``english``, ``英文`` mean ``en``.
    None when it is neither."""
    v = value.strip().lower().replace("_", "-")
    if v.startswith(("zh", "cn", "chi", "chs", "cmn")) or any(c in v for c in ("中", "汉", "漢", "简", "簡")):
        return "zh"
    if v.startswith(("en", "eng")) or v in ("us", "uk", "gb") or "英" in v:
        return "en"
    return None


def type_name(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class Reader:
    """Collects problems while reading values out of the raw TOML tables."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.base = file.parent
        self.problems: list[Problem] = []

    def add(self, key: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(key, message, fix))

    def string(
        self, table: dict[str, Any], key: str, where: str, default: Any = None, required: bool = False
    ) -> Any:
        if key not in table:
            if required:
                self.add(f"{where}.{key}", "missing", f'add {key} = "..." under [{where.split("[")[0]}]')
            return default
        value = table[key]
        if not isinstance(value, str):
            self.add(
                f"{where}.{key}",
                f"must be text, not {type_name(value)}",
                f'write it in quotes: {key} = "..."',
            )
            return default
        if required and not value.strip():
            self.add(f"{where}.{key}", "must not be empty", f'give it a value: {key} = "..."')
        return value

    def path(self, table: dict[str, Any], key: str, where: str) -> Path | None:
        value = self.string(table, key, where)
        return self.resolve(value) if value else None

    def resolve(self, value: str) -> Path:
        """``~`` expanded; relative to the profile's folder; ``..`` and ``.`` normalised (symlinks
        are kept as written, so paths read as the creator wrote them)."""
        p = Path(os.path.expanduser(value))
        return Path(os.path.abspath(p if p.is_absolute() else self.base / p))

    def str_list(self, table: dict[str, Any], key: str, where: str, required: bool = False) -> list[str]:
        if key not in table:
            if required:
                self.add(f"{where}.{key}", "missing", f'add {key} = ["~/Pictures/Shoots"] under [{where}]')
            return []
        value = table[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(f"{where}.{key}", "must be a list of text", f'write it as {key} = ["...", "..."]')
            return []
        if required and not value:
            self.add(
                f"{where}.{key}",
                "must name at least one folder",
                f'write it as {key} = ["~/Pictures/Shoots"]',
            )
        return list(value)

    def _typed(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        default: Any,
        ok: type | tuple[type, ...],
        what: str,
        fix: str,
    ) -> tuple[bool, Any]:
        """(True, value) if ``key`` is present with a value of type ``ok`` (never a bool posing as
        a number); else (False, default), with a problem recorded if the type was wrong."""
        if key not in table:
            return False, default
        value = table[key]
        if isinstance(value, bool) != (ok is bool) or not isinstance(value, ok):
            self.add(f"{where}.{key}", f"must be {what}, not {type_name(value)}", fix)
            return False, default
        return True, value

    def _ranged(self, key: str, where: str, value: Any, low: float, high: float, advice: str) -> bool:
        if low <= value <= high:
            return True
        self.add(f"{where}.{key}", f"{value} is out of range {low}-{high}", advice)
        return False

    def number(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        default: float,
        low: float,
        high: float,
        advice: str,
    ) -> float:
        found, value = self._typed(
            table, key, where, default, (int, float), "a number", f"write e.g. {key} = {default}"
        )
        if found and self._ranged(key, where, value, low, high, advice):
            return float(value)
        return default

    def integer(
        self, table: dict[str, Any], key: str, where: str, default: int | None, low: int, high: int
    ) -> Any:
        example = low if default is None else default
        found, value = self._typed(
            table, key, where, default, int, "a whole number", f"write e.g. {key} = {example}"
        )
        if found and self._ranged(key, where, value, low, high, f"use a value from {low} to {high}"):
            return value
        return default

    def boolean(self, table: dict[str, Any], key: str, where: str, default: bool) -> bool:
        fix = f"write {key} = true or {key} = false"
        return bool(self._typed(table, key, where, default, bool, "true or false", fix)[1])

    def choice(
        self, table: dict[str, Any], key: str, where: str, options: tuple[str, ...], default: Any
    ) -> Any:
        value = self.string(table, key, where)
        if value is None:
            return default
        if value not in options:
            import difflib

            close = difflib.get_close_matches(value, list(options), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.add(
                f"{where}.{key}", f"{value!r} is not one of {', '.join(options)}", f"{hint}use one of those"
            )
            return default
        return value
