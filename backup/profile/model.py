"""A creator account's profile, as Keepmark uses it once the TOML file has been validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

TARGET_TYPES = ("local", "s3", "rclone")
STORAGE_CLASSES = (
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
    "REDUCED_REDUNDANCY",
)
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
ADDRESSING_STYLES = ("path", "virtual")
LANGUAGES = ("en", "zh")  # the evidence's languages: English, Simplified Chinese
DEFAULT_LANGUAGE = "en"

DEFAULT_TEXT = "© {name} · @{handle}"
DEFAULT_POSITION = "bottom-right"
DEFAULT_OPACITY = 0.4
DEFAULT_SIZE = 0.05
DEFAULT_INCREMENTAL = "weekly sun 03:00"
DEFAULT_FULL = "monthly 1 04:00"
DEFAULT_READ_BACK_CYCLE = 12  # each full run reads back 1/12 of every target
DEFAULT_WEEKLY = 8
DEFAULT_MONTHLY = 12


class Account(NamedTuple):
    name: str
    handle: str
    # The language of the evidence (report.html, notice.txt) unless `--lang` says otherwise.
    language: str = DEFAULT_LANGUAGE


class Sources(NamedTuple):
    folders: tuple[Path, ...]
    important: tuple[Path, ...] = ()
    ignore: tuple[str, ...] = ()
    follow_symlinks: bool = False


class WatermarkSettings(NamedTuple):
    text: str = DEFAULT_TEXT
    logo: Path | None = None
    position: str = DEFAULT_POSITION
    opacity: float = DEFAULT_OPACITY
    size: float = DEFAULT_SIZE
    output: Path | None = None
    margin: float = 0.03
    font: Path | None = None
    suffix: str = ""
    jpeg_quality: int | None = None
    copyright: bool = False
    max_image_pixels: int | None = None
    animated: str = "stamp"
    video_codec: str = "auto"
    video_crf: int = 20
    video_preset: str = "veryfast"
    credits_opening: float = 0.0
    credits_closing: float = 0.0


class Target(NamedTuple):
    name: str
    type: str
    path: Path | None = None
    bucket: str | None = None
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    storage_class: str | None = None
    object_lock_days: int | None = None
    object_lock_mode: str | None = None
    aws_profile: str | None = None
    remote: str | None = None
    addressing_style: str | None = None

    def describe(self) -> str:
        if self.type == "local":
            return f"folder {self.path}"
        if self.type == "s3":
            where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
            return f"{where} at {self.endpoint_url}" if self.endpoint_url else where
        return f"rclone {self.remote}"

    def address(self) -> str:
        """Where the target is without words of any language (a page says its type beside it):
        the folder, the bucket (and its endpoint), the remote."""
        if self.type == "local":
            return str(self.path)
        if self.type == "s3":
            where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
            return f"{where} · {self.endpoint_url}" if self.endpoint_url else where
        return str(self.remote)


class Schedule(NamedTuple):
    incremental: str = DEFAULT_INCREMENTAL
    full: str = DEFAULT_FULL
    on_battery: bool = True
    read_back_cycle: int = DEFAULT_READ_BACK_CYCLE


DEFAULT_SETTLE = 1.0
DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_DECODE_WAIT = 300.0


class Watch(NamedTuple):
    """How the daemon (``backup watch``) notices new files."""

    settle_seconds: float = DEFAULT_SETTLE
    polling: bool = False
    poll_interval: float = DEFAULT_POLL_INTERVAL
    notify: bool = True
    # A photo or video that does not decode is held (maybe half-written) and looked at again
    # until this long after its last change; then it is recorded as undecodable.
    decode_wait_seconds: float = DEFAULT_DECODE_WAIT


class Retention(NamedTuple):
    weekly: int = DEFAULT_WEEKLY
    monthly: int = DEFAULT_MONTHLY


class ProofSettings(NamedTuple):
    """``[proof]``: the timestamp authority for ledger checkpoints, and the contact details a
    copyright notice carries."""

    tsa_url: str | None = None
    tsa_certificate: Path | None = None
    contact_email: str = ""
    contact_phone: str = ""
    contact_address: str = ""


class Profile(NamedTuple):
    name: str
    file: Path
    account: Account
    sources: Sources
    watermark: WatermarkSettings = WatermarkSettings()
    targets: tuple[Target, ...] = ()
    schedule: Schedule = Schedule()
    retention: Retention = Retention()
    proof: ProofSettings = ProofSettings()
    watch: Watch = Watch()

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON: paths as text, unset keys left out."""

        def clean(value: Any) -> Any:
            if isinstance(value, Path):
                return str(value)
            if hasattr(value, "_asdict"):
                return {k: clean(v) for k, v in value._asdict().items() if v is not None}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value

        return clean(self)  # type: ignore[no-any-return]
