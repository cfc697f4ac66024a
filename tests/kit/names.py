"""File names that break careless code: shell syntax, quotes, option-like names, URL escapes,
other scripts and emoji, odd spacing, long names. Each is a valid file name on Linux and macOS
(Windows refuses some of the characters: tests that write these skip there or pick from
``PORTABLE``)."""

from __future__ import annotations

# Read by a shell, these would run commands, expand or redirect.
SHELL = [
    '$(touch pwned) "x".jpg',
    "`touch pwned2`;rm -rf nothing&.mp4",
    "`touch pwned2`;echo hi&.mov",
    "a'b\"c|d>e<f*?.png",
]
# Taken for an option by a command that gets them as arguments without a "--" before them.
OPTION_LIKE = ["-rf --help.jpg", "--dry-run", "-rf --dry-run.jpg"]
# Quotes and escapes that URL, TOML or JSON code must leave alone.
QUOTING = ['quote\'s "double".jpg', "it's a `test`.mov", "percent%20and+plus#hash.png"]
# Other scripts, combining marks and emoji.
SCRIPTS = ["百合 · 写真 🌸.heic", "百合 🌸.heic", "海边日落.jpg", "Ünïcödé café.txt"]
# Spaces where they are easy to lose.
SPACING = ["with space.jpg", "a b  c.txt", " leading and trailing space .txt"]
# Long, but within the 255-byte limit of common file systems.
LONG = ["l" * 180 + ".jpg", "n" * 200 + ".jpg"]

HOSTILE = [*SHELL, *OPTION_LIKE, *QUOTING, *SCRIPTS, *SPACING, *LONG]
# A few of them (a shell command, an option, another script), for slow end-to-end runs.
FEW = ['$(touch pwned) "x".jpg', "`touch pwned2`;echo hi&.mov", "-rf --dry-run.jpg", "百合 🌸.heic"]
# The ones Windows accepts as well (no " * ? | < > and no trailing space).
PORTABLE = [n for n in HOSTILE if not set(n) & set('"*?|<>') and n == n.rstrip(" .")]
