"""S3's limits, as the service documents them."""

from __future__ import annotations

MiB = 1024 * 1024
MIN_PART = 5 * MiB
MAX_PART = 5 * 1024 * MiB
MAX_PARTS = 10_000
MAX_OBJECT = 5 * 1024 * 1024 * MiB
MAX_KEY_BYTES = 1024
COPY_LIMIT = 5 * 1024 * MiB  # copy_object's limit; bigger objects are copied part by part
