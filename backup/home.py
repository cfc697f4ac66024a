"""Where Keepmark keeps its files: the user data directory, or ``$KEEPMARK_HOME``.

<home>/profiles/<name>.toml          one profile per creator account
<home>/state/<name>/inventory.sqlite the profile's inventory and ledger (SQLite, WAL)
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "KEEPMARK_HOME"
PROFILE_ENV = "KEEPMARK_PROFILE"


def keepmark_home() -> Path:
    """``$KEEPMARK_HOME`` if set (it replaces the default entirely), else the platform's user
    data directory (``~/Library/Application Support/Keepmark`` on macOS,
    ``%LOCALAPPDATA%\\Keepmark`` on Windows, ``~/.local/share/Keepmark`` on Linux)."""
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(os.path.abspath(os.path.expanduser(env)))
    import platformdirs

    return Path(platformdirs.user_data_dir("Keepmark", appauthor=False))


def profiles_dir() -> Path:
    return keepmark_home() / "profiles"


def state_dir(profile_name: str) -> Path:
    return keepmark_home() / "state" / profile_name


def inventory_path(profile_name: str) -> Path:
    return state_dir(profile_name) / "inventory.sqlite"
