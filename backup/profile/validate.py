"""Turn a profile's TOML into a ``Profile``, or into a list of problems each naming its key.

``parse`` checks the structure (unknown keys with a did-you-mean, types, ranges, secrets) and is
what every command runs; ``backup.profile.ondisk.check_on_disk`` adds what can be checked on this
machine without a network (folders that must exist, a logo that must be a file, the stamped
output outside the sources).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from backup.errors import Problem
from backup.profile.fields import Reader, did_you_mean, near_language, type_name
from backup.profile.model import (
    ADDRESSING_STYLES,
    DEFAULT_DECODE_WAIT,
    DEFAULT_FULL,
    DEFAULT_INCREMENTAL,
    DEFAULT_LANGUAGE,
    DEFAULT_MONTHLY,
    DEFAULT_OPACITY,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_POSITION,
    DEFAULT_READ_BACK_CYCLE,
    DEFAULT_SETTLE,
    DEFAULT_SIZE,
    DEFAULT_TEXT,
    DEFAULT_WEEKLY,
    LANGUAGES,
    LOCK_MODES,
    STORAGE_CLASSES,
    TARGET_TYPES,
    Account,
    Profile,
    ProofSettings,
    Retention,
    Schedule,
    Sources,
    Target,
    Watch,
    WatermarkSettings,
)
from backup.profile.ondisk import inside
from backup.profile.schedule import ScheduleSyntaxError, parse_slot
from backup.profile.specs import is_windows_drive_path, local_path_is_absolute
from watermark.positions import POSITIONS

VIDEO_CODECS = ("auto", "libx264", "libx265", "h264_videotoolbox", "hevc_videotoolbox")
VIDEO_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
SECTIONS: dict[str, tuple[str, ...]] = {
    "account": ("name", "handle", "language"),
    "sources": ("folders", "important", "ignore", "follow_symlinks"),
    "watermark": (
        "text",
        "logo",
        "position",
        "opacity",
        "size",
        "output",
        "margin",
        "font",
        "suffix",
        "jpeg_quality",
        "copyright",
        "max_image_pixels",
        "animated",
        "video_codec",
        "video_crf",
        "video_preset",
        "credits_opening",
        "credits_closing",
    ),
    "schedule": ("incremental", "full", "on_battery", "read_back_cycle"),
    "retention": ("weekly", "monthly"),
    "proof": ("tsa_url", "tsa_certificate", "contact_email", "contact_phone", "contact_address"),
    "watch": ("settle_seconds", "polling", "poll_interval", "notify", "decode_wait_seconds"),
}
TARGET_KEYS: dict[str, tuple[str, ...]] = {
    "local": ("path",),
    "s3": (
        "bucket",
        "prefix",
        "endpoint_url",
        "region",
        "storage_class",
        "object_lock_days",
        "object_lock_mode",
        "aws_profile",
        "addressing_style",
    ),
    "rclone": ("remote",),
}
ALL_TARGET_KEYS = ("name", "type", *(k for keys in TARGET_KEYS.values() for k in keys))
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SECRET_RE = re.compile(
    r"(secret|passw|passphrase|token|access_key|accesskey|private_key|api_key|apikey|credential|session_key)",
    re.IGNORECASE,
)
_CREDENTIAL_FIX = (
    "remove it: credentials never go in a profile; S3 takes them from the AWS credential chain "
    '(environment, ~/.aws/credentials, or aws_profile = "name"), rclone from its rclone.conf'
)


def _connection_secret(remote: str) -> bool:
    """An rclone connection string (``:s3,secret_access_key=...:bucket``) with a credential."""
    head = remote.split(":", 2)[1] if remote.startswith(":") else remote.split(":", 1)[0]
    params = head.split(",")[1:]
    return any(_SECRET_RE.search(p.split("=", 1)[0]) for p in params)


def _find_secrets(node: Any, where: str, reader: Reader) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else str(key)
            if _SECRET_RE.search(str(key)):
                reader.add(here, "looks like a credential and is refused", _CREDENTIAL_FIX)
            else:
                _find_secrets(value, here, reader)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _find_secrets(value, f"{where}[{i + 1}]", reader)
    elif isinstance(node, str) and re.match(r"^[a-z][a-z0-9+.-]*://[^/@\s]+:[^/@\s]+@", node, re.IGNORECASE):
        reader.add(where, "contains a user name and password in the URL", _CREDENTIAL_FIX)


def _unknown_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str, reader: Reader) -> None:
    for key in table:
        if key in allowed or _SECRET_RE.search(key):
            continue
        elsewhere = [s for s, keys in SECTIONS.items() if key in keys and s != where]
        if elsewhere:
            fix = f"it belongs under [{elsewhere[0]}]"
        else:
            fix = did_you_mean(key, allowed)
        reader.add(f"{where}.{key}" if where else key, "unknown key", fix)


def _table(raw: dict[str, Any], name: str, reader: Reader) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        reader.add(
            name, f"must be a table ([{name}]), not {type_name(value)}", f"write it as a [{name}] section"
        )
        return {}
    return value


def _schedule(table: dict[str, Any], key: str, default: str, reader: Reader) -> str:
    value = reader.string(table, key, "schedule", default)
    if value is None:
        return default
    try:
        parse_slot(value)
    except ScheduleSyntaxError as exc:
        reader.add(
            f"schedule.{key}",
            str(exc),
            'write e.g. "weekly sun 03:00", "monthly 1 04:00", "daily 02:30" or "off"',
        )
        return default
    return str(value)


def _target(raw: Any, index: int, reader: Reader) -> Target | None:
    where = f"targets[{index}]"
    if not isinstance(raw, dict):
        reader.add(
            where, f"must be a table, not {type_name(raw)}", "write each target as a [[targets]] section"
        )
        return None
    type_ = reader.choice(raw, "type", where, TARGET_TYPES, None)
    if "type" not in raw:
        reader.add(f"{where}.type", "missing", 'add type = "local", "s3" or "rclone"')
    name = reader.string(raw, "name", where, required=True)
    if name and not NAME_RE.match(name):
        reader.add(
            f"{where}.name", f"{name!r} is not a usable name", "use letters, digits, '.', '_' and '-' only"
        )
    for key in raw:
        if key in ("name", "type") or _SECRET_RE.search(key):
            continue
        if key not in ALL_TARGET_KEYS:
            reader.add(f"{where}.{key}", "unknown key", did_you_mean(key, list(ALL_TARGET_KEYS)))
        elif type_ and key not in TARGET_KEYS[type_]:
            owner = next(t for t, keys in TARGET_KEYS.items() if key in keys)
            reader.add(
                f"{where}.{key}",
                f"is for {owner} targets, not {type_}",
                f'remove it, or set type = "{owner}"',
            )
    if type_ is None:
        return None
    if type_ == "local":
        if "path" not in raw:
            reader.add(f"{where}.path", "missing", 'add path = "/Volumes/Backup" (the drive\'s folder)')
        written = raw.get("path")
        if isinstance(written, str) and written.strip() and not local_path_is_absolute(written):
            remote = re.match(r"^([^:/\\]+):", written)
            reader.add(
                f"{where}.path",
                f"{written!r} is a relative path; a local target is an absolute folder path",
                f'if {remote.group(1)!r} is an rclone remote, write type = "rclone" and remote = {written!r}'
                if remote and not is_windows_drive_path(written)
                else 'write the whole path, e.g. path = "/Volumes/Backup/Keepmark"',
            )
        return Target(name=name or f"target{index}", type=type_, path=reader.path(raw, "path", where))
    if type_ == "rclone":
        remote = reader.string(raw, "remote", where)
        if remote is None:
            reader.add(
                f"{where}.remote", "missing", 'add remote = "gdrive:Keepmark" (a remote from rclone.conf)'
            )
        elif not re.match(r"^[^:/\\]+:", remote) and not remote.startswith(":"):
            reader.add(
                f"{where}.remote", f"{remote!r} is not an rclone remote", 'write it as "remote-name:folder"'
            )
        elif _connection_secret(remote):
            reader.add(f"{where}.remote", "carries a credential in its connection string", _CREDENTIAL_FIX)
        return Target(name=name or f"target{index}", type=type_, remote=remote)
    bucket = reader.string(raw, "bucket", where)
    if bucket is None:
        reader.add(f"{where}.bucket", "missing", 'add bucket = "my-backups"')
    elif not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", bucket):
        reader.add(
            f"{where}.bucket",
            f"{bucket!r} is not a valid bucket name",
            "use 3-63 lowercase letters, digits, '.' and '-'",
        )
    endpoint = reader.string(raw, "endpoint_url", where)
    if endpoint is not None and not re.match(r"^https?://[^\s/]+", endpoint):
        reader.add(
            f"{where}.endpoint_url",
            f"{endpoint!r} is not an http(s) URL",
            'write e.g. "https://s3.us-west-004.backblazeb2.com"',
        )
    lock_days = reader.integer(raw, "object_lock_days", where, None, 1, 36500)
    lock_mode = reader.choice(raw, "object_lock_mode", where, LOCK_MODES, None)
    if lock_mode and not lock_days:
        reader.add(
            f"{where}.object_lock_mode",
            "set without object_lock_days",
            "add object_lock_days = 30 (or remove the mode)",
        )
    return Target(
        name=name or f"target{index}",
        type=type_,
        bucket=bucket,
        prefix=(reader.string(raw, "prefix", where, "") or "").strip("/"),
        endpoint_url=endpoint,
        region=reader.string(raw, "region", where),
        storage_class=reader.choice(raw, "storage_class", where, STORAGE_CLASSES, None),
        object_lock_days=lock_days,
        object_lock_mode=lock_mode or ("GOVERNANCE" if lock_days else None),
        aws_profile=reader.string(raw, "aws_profile", where),
        addressing_style=reader.choice(raw, "addressing_style", where, ADDRESSING_STYLES, None),
    )


def parse(raw: dict[str, Any], file: Path, name: str) -> tuple[Profile | None, list[Problem]]:
    """Validate the structure of a profile. Returns the profile, or None and its problems."""
    reader = Reader(file)
    _find_secrets(raw, "", reader)
    _unknown_keys(raw, (*SECTIONS, "targets"), "", reader)
    for section, keys in SECTIONS.items():
        if section in raw and isinstance(raw[section], dict):
            _unknown_keys(raw[section], keys, section, reader)

    account = _table(raw, "account", reader)
    if "account" not in raw:
        reader.add("account", "missing", 'add an [account] section with name = "..." and handle = "..."')
    acc = Account(
        name=reader.string(account, "name", "account", "", required="account" in raw) or "",
        handle=(reader.string(account, "handle", "account", "", required="account" in raw) or "").lstrip("@"),
        language=_language(account, reader),
    )
    raw_handle = account.get("handle")
    if isinstance(raw_handle, str) and raw_handle.strip() and not acc.handle:
        reader.add("account.handle", "is only '@'", 'give the handle itself, e.g. handle = "lily.shoots"')

    src = _table(raw, "sources", reader)
    if "sources" not in raw:
        reader.add("sources", "missing", 'add a [sources] section with folders = ["~/Pictures/Shoots"]')
    folders = [
        reader.resolve(f) for f in reader.str_list(src, "folders", "sources", required="sources" in raw)
    ]
    important = [reader.resolve(f) for f in reader.str_list(src, "important", "sources")]
    sources = Sources(
        folders=tuple(folders),
        important=tuple(important),
        ignore=tuple(reader.str_list(src, "ignore", "sources")),
        follow_symlinks=reader.boolean(src, "follow_symlinks", "sources", False),
    )
    for i, f in enumerate(folders):
        for g in folders[:i]:
            if f == g or inside(f, g) or inside(g, f):
                reader.add(
                    "sources.folders",
                    f"{f} and {g} overlap",
                    "list each folder once, and no folder inside another",
                )
    for imp in important:
        if not any(imp == f or inside(imp, f) for f in folders):
            reader.add(
                "sources.important",
                f"{imp} is not inside any of sources.folders",
                "list subfolders of your source folders",
            )

    wm = _table(raw, "watermark", reader)
    watermark = WatermarkSettings(
        text=reader.string(wm, "text", "watermark", DEFAULT_TEXT),
        logo=reader.path(wm, "logo", "watermark"),
        position=reader.choice(wm, "position", "watermark", POSITIONS, DEFAULT_POSITION),
        opacity=reader.number(
            wm,
            "opacity",
            "watermark",
            DEFAULT_OPACITY,
            0.0,
            1.0,
            "use a value from 0 (invisible) to 1.0 (opaque); 0.3-0.5 is recommended (default 0.4)",
        ),
        size=reader.number(
            wm,
            "size",
            "watermark",
            DEFAULT_SIZE,
            0.01,
            1.0,
            "the mark's size as a fraction of the picture's short side, e.g. 0.05",
        ),
        output=reader.path(wm, "output", "watermark"),
        margin=reader.number(
            wm, "margin", "watermark", 0.03, 0.0, 0.4, "a fraction of the short side, e.g. 0.03"
        ),
        font=reader.path(wm, "font", "watermark"),
        suffix=reader.string(wm, "suffix", "watermark", "") or "",
        jpeg_quality=reader.integer(wm, "jpeg_quality", "watermark", None, 1, 100),
        copyright=reader.boolean(wm, "copyright", "watermark", False),
        max_image_pixels=reader.integer(wm, "max_image_pixels", "watermark", None, 1_000_000, 10_000_000_000),
        animated=reader.choice(wm, "animated", "watermark", ("stamp", "refuse"), "stamp"),
        video_codec=reader.choice(wm, "video_codec", "watermark", VIDEO_CODECS, "auto"),
        video_crf=reader.integer(wm, "video_crf", "watermark", 20, 0, 51),
        video_preset=reader.choice(wm, "video_preset", "watermark", VIDEO_PRESETS, "veryfast"),
        credits_opening=reader.number(wm, "credits_opening", "watermark", 0.0, 0.0, 30.0, "seconds, e.g. 3"),
        credits_closing=reader.number(wm, "credits_closing", "watermark", 0.0, 0.0, 30.0, "seconds, e.g. 3"),
    )
    if watermark.suffix and (
        "/" in watermark.suffix or "\\" in watermark.suffix or watermark.suffix.strip() != watermark.suffix
    ):
        reader.add(
            "watermark.suffix", f"{watermark.suffix!r} is not a file-name suffix", 'write e.g. suffix = "-wm"'
        )
    if watermark.text is not None:
        _check_placeholders(watermark.text, reader)

    targets: list[Target] = []
    raw_targets = raw.get("targets", [])
    if not isinstance(raw_targets, list):
        reader.add(
            "targets", "must be a list of [[targets]] sections", "write each target as a [[targets]] section"
        )
        raw_targets = []
    for i, t in enumerate(raw_targets, start=1):
        target = _target(t, i, reader)
        if target is not None:
            targets.append(target)
    names = [t.name for t in targets]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        reader.add(
            "targets", f"the name {dup!r} is used by more than one target", "give each target its own name"
        )

    sched = _table(raw, "schedule", reader)
    schedule = Schedule(
        incremental=_schedule(sched, "incremental", DEFAULT_INCREMENTAL, reader),
        full=_schedule(sched, "full", DEFAULT_FULL, reader),
        on_battery=reader.boolean(sched, "on_battery", "schedule", True),
        read_back_cycle=reader.integer(sched, "read_back_cycle", "schedule", DEFAULT_READ_BACK_CYCLE, 0, 120),
    )
    ret = _table(raw, "retention", reader)
    retention = Retention(
        weekly=reader.integer(ret, "weekly", "retention", DEFAULT_WEEKLY, 0, 10000),
        monthly=reader.integer(ret, "monthly", "retention", DEFAULT_MONTHLY, 0, 10000),
    )
    proof = _proof(_table(raw, "proof", reader), reader)
    wt = _table(raw, "watch", reader)
    watch = Watch(
        settle_seconds=reader.number(
            wt, "settle_seconds", "watch", DEFAULT_SETTLE, 0.1, 3600, "seconds, e.g. 2 (0.1 to 3600)"
        ),
        polling=reader.boolean(wt, "polling", "watch", False),
        poll_interval=reader.number(
            wt, "poll_interval", "watch", DEFAULT_POLL_INTERVAL, 0.5, 3600, "seconds, e.g. 10 (0.5 to 3600)"
        ),
        notify=reader.boolean(wt, "notify", "watch", True),
        decode_wait_seconds=reader.number(
            wt,
            "decode_wait_seconds",
            "watch",
            DEFAULT_DECODE_WAIT,
            0,
            86400,
            "seconds, e.g. 300 (0 to 86400)",
        ),
    )
    if reader.problems:
        return None, reader.problems
    return (
        Profile(
            name=name,
            file=file,
            account=acc,
            sources=sources,
            watermark=watermark,
            targets=tuple(targets),
            schedule=schedule,
            retention=retention,
            proof=proof,
            watch=watch,
        ),
        [],
    )


def _proof(table: dict[str, Any], reader: Reader) -> ProofSettings:
    from urllib.parse import urlsplit

    url = reader.string(table, "tsa_url", "proof")
    if url is not None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            reader.add(
                "proof.tsa_url",
                f"{url!r} is not an http(s) URL",
                'give the timestamp authority\'s address, e.g. tsa_url = "https://freetsa.org/tsr"',
            )
            url = None
        else:
            url = url.strip()
    certificate = reader.path(table, "tsa_certificate", "proof")
    if url and certificate is None:
        reader.add(
            "proof.tsa_url",
            "needs tsa_certificate",
            'add tsa_certificate = "path/to/authority.pem": the authority\'s CA certificate (PEM), '
            "which its timestamps are verified against",
        )
    email = reader.string(table, "contact_email", "proof", "") or ""
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email.strip()):
        reader.add("proof.contact_email", f"{email!r} is not an email address", 'e.g. "lily@example.com"')
    return ProofSettings(
        tsa_url=url,
        tsa_certificate=certificate,
        contact_email=email.strip(),
        contact_phone=(reader.string(table, "contact_phone", "proof", "") or "").strip(),
        contact_address=(reader.string(table, "contact_address", "proof", "") or "").strip(),
    )


def _language(table: dict[str, Any], reader: Reader) -> str:
    """``[account] language``: exactly ``en`` or ``zh``; a near miss (``zh-CN``, ``chinese``) is
    refused with the right value suggested."""
    value = reader.string(table, "language", "account", DEFAULT_LANGUAGE)
    if value in LANGUAGES:
        return str(value)
    if value is not None and isinstance(table.get("language"), str):
        near = near_language(value)
        hint = f'did you mean "{near}"? ' if near else ""
        reader.add(
            "account.language",
            f"{value!r} is not one of {', '.join(LANGUAGES)}",
            f'{hint}write language = "en" (English) or language = "zh" (Simplified Chinese)',
        )
    return DEFAULT_LANGUAGE


def _check_placeholders(text: str, reader: Reader) -> None:
    allowed = {"name", "handle", "year", "date"}
    for found in re.findall(r"\{([^{}]*)\}", text.replace("{{", "").replace("}}", "")):
        if found not in allowed:
            reader.add(
                "watermark.text",
                f"unknown placeholder {{{found}}}",
                "use {name}, {handle}, {year} or {date} (write {{ and }} for literal braces)",
            )
