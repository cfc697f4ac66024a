"""The hashes of committed fixture files, pinned. An upgrade of Pillow, pillow-heif, imagehash
or ffmpeg that changes them would silently invalidate every stored inventory: if this fails,
do not update the numbers without a plan (a new ``hash_params`` scheme and re-hashing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory.examine import examine
from inventory.phash import SCHEME

FIXTURES = Path(__file__).parent / "fixtures"

PINNED = {
    "portrait.jpg": {
        "sha256": "34c54eb6111a75ba702ea944b5d5b9ba99d3e172f2d24996f6451f5e7c6dd6ea",
        "kind": "image",
        "format": "jpeg",
        "size": (480, 640),
        "capture_time": "2026-05-14T19:50:03",
        "phash": "999bc16c6cccc2b3",
        "dhash": "301898301830b098",
    },
    "flatlay.png": {
        "sha256": "0272fae1331832b57d0ec1623cd265d800cb24b109d2f451cdc714fe3d7b4a13",
        "kind": "image",
        "format": "png",
        "size": (240, 240),
        "capture_time": None,
        "phash": "f0f80f07878b78f0",
        "dhash": "40a090ad85b4655a",
    },
    "dunes.heic": {
        "sha256": "6b0be87e0d30f0c138631ca7ff69a9f022f9e39b8a59b7a9c7ef57ce251cb407",
        "kind": "image",
        "format": "heic",
        "size": (480, 360),
        "capture_time": "2026-05-15T08:01:44",
        "phash": "b4b5e74a4ac22799",
        "dhash": "523646b6b3ddedd2",
    },
    "clip.mp4": {
        "sha256": "97ca7270ea08483fad683ca707787f0f9d220386a4b3a6cb6684d3bc248a7748",
        "kind": "video",
        "format": "mp4",
        "size": (320, 240),
        "capture_time": "2026-06-02T09:30:00Z",
        "phash": "8e0e1ebc4e01e8fd",
        "dhash": None,
        "frame_hashes": [
            "8c183e1e0f9b9b55",
            "8c1e1e1e0f31f4ea",
            "8c1e1e1e2b74ea47",
            "8e0e1e3a7c9f13e0",
            "8e0e1ebc4e01e8fd",
            "8e0e1e1e0b5cff41",
            "ae0c3e1e29fe00f9",
            "ae0c3f12cc33de61",
        ],
        "duration_ms": 2000,
    },
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_hashes_of_fixture_files_are_pinned(name: str) -> None:
    want = PINNED[name]
    facts, _ = examine(str(FIXTURES / name))
    m = facts.media
    assert m.decode_error is None
    assert facts.sha256 == want["sha256"]
    assert (facts.kind, facts.format) == (want["kind"], want["format"])
    assert (m.width, m.height) == want["size"]
    assert m.capture_time == want["capture_time"]
    assert m.phash == want["phash"]
    assert m.dhash == want["dhash"]
    if "frame_hashes" in want:
        assert m.frame_hashes == want["frame_hashes"]
        assert m.duration_ms == want["duration_ms"]
    params = json.loads(m.hash_params or "{}")
    assert params["scheme"] == SCHEME
    assert {"imagehash", "pillow", "phash", "dhash"} <= set(params)
