"""Finding and reading profiles."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from backup.errors import Problem, ProfileError, ProfileNotFound
from backup.home import profiles_dir
from backup.profile.model import Profile
from backup.profile.validate import NAME_RE, parse

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

toml_loads = tomllib.loads


def available() -> list[Path]:
    """Profiles in ``$KEEPMARK_HOME/profiles``, by name."""
    folder = profiles_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if p.is_file())


def looks_like_path(ref: str) -> bool:
    return ref.endswith(".toml") or "/" in ref or os.sep in ref


def locate(ref: str | None) -> Path:
    """The file a ``--profile`` value means: a path, or a name looked up in
    ``$KEEPMARK_HOME/profiles`` then ``./profiles``; with none given, the only profile there is."""
    if ref is None or not ref.strip():
        found = available()
        if len(found) == 1:
            return found[0]
        if not found:
            raise ProfileNotFound(
                f"no profile in {profiles_dir()}: create one with `backup init NAME --account ... "
                "--handle ... --source DIR`, or pass --profile PATH"
            )
        names = ", ".join(p.stem for p in found)
        raise ProfileNotFound(f"several profiles ({names}): choose one with --profile NAME")
    ref = ref.strip()
    if looks_like_path(ref):
        path = Path(os.path.expanduser(ref))
        if path.is_file():
            return path.resolve()
        raise ProfileNotFound(f"{ref}: no such profile file")
    candidates = [profiles_dir() / f"{ref}.toml", Path.cwd() / "profiles" / f"{ref}.toml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    known = ", ".join(p.stem for p in available()) or "none yet"
    raise ProfileNotFound(
        f"no profile named {ref!r} (looked for {candidates[0]} and {candidates[1]}; known: {known})"
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(
            str(path), [Problem("(syntax)", f"not valid TOML: {exc}", "fix the TOML syntax where it says")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(
            str(path), [Problem("(encoding)", "not UTF-8 text", "save the file as UTF-8")]
        ) from exc
    except OSError as exc:
        raise ProfileNotFound(f"{path}: cannot read: {exc.strerror or exc}") from exc


def profile_name(path: Path) -> str:
    name = path.stem
    if not NAME_RE.match(name):
        raise ProfileError(
            str(path),
            [
                Problem(
                    "(file name)",
                    f"{name!r} is not a usable profile name",
                    "rename the file using letters, digits, '.', '_' and '-'",
                )
            ],
        )
    return name


def load(ref: str | None) -> Profile:
    """Find, read and validate a profile; raise ``ProfileError`` naming every problem."""
    path = locate(ref)
    raw = read_toml(path)
    profile, problems = parse(raw, path, profile_name(path))
    if profile is None:
        raise ProfileError(str(path), problems)
    return profile
