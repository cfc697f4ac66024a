"""The hashes of committed fixture files, pinned. An upgrade of Pillow, pillow-heif, imagehash
or ffmpeg that changes them would silently invalidate every stored inventory: if this fails,
do not update the numbers without a plan (a new ``hash_params`` scheme and re-hashing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory.match.params import SCHEME
from inventory.record.examine import examine

FIXTURES = Path(__file__).parent / "fixtures"

PINNED = {
    "portrait.jpg": {
        "window_hashes": {
            "full": "999bc16c6cccc2b3",
            "centre90": "99939b6c6c4c6c71",
            "centre75": "989393236d4e6973",
            "topleft75": "b4a45b5adba4a398",
            "topright75": "8f9c6323e31cc9c3",
            "bottomleft75": "b3b4a495a4a68d9b",
            "bottomright75": "8f9c9cc81c1ed9c3",
        },
        "sha256": "34c54eb6111a75ba702ea944b5d5b9ba99d3e172f2d24996f6451f5e7c6dd6ea",
        "kind": "image",
        "format": "jpeg",
        "size": (480, 640),
        "capture_time": "2026-05-14T19:50:03",
        "phash": "999bc16c6cccc2b3",
        "dhash": "301898301830b098",
    },
    "flatlay.png": {
        "window_hashes": {
            "full": "f0f80f07878b78f0",
            "centre90": "fcfc0107838778e6",
            "centre75": "ffff0a0581023967",
            "topleft75": "e0f40f0ff760e914",
            "topright75": "f28d03f88f32f00f",
            "bottomleft75": "e0e0f07160cf8f97",
            "bottomright75": "f2bc8d0317f0e08f",
        },
        "sha256": "0272fae1331832b57d0ec1623cd265d800cb24b109d2f451cdc714fe3d7b4a13",
        "kind": "image",
        "format": "png",
        "size": (240, 240),
        "capture_time": None,
        "phash": "f0f80f07878b78f0",
        "dhash": "40a090ad85b4655a",
    },
    "dunes.heic": {
        "window_hashes": {
            "full": "b4b5e74a4ac22799",
            "centre90": "b5b5e55ada42419a",
            "centre75": "adada55ada41419e",
            "topleft75": "aaea5555cf30a90e",
            "topright75": "96b66949fa05817e",
            "bottomleft75": "a2aaea2e32b0b94f",
            "bottomright75": "9796b6321785897a",
        },
        "sha256": "6b0be87e0d30f0c138631ca7ff69a9f022f9e39b8a59b7a9c7ef57ce251cb407",
        "kind": "image",
        "format": "heic",
        "size": (480, 360),
        "capture_time": "2026-05-15T08:01:44",
        "phash": "b4b5e74a4ac22799",
        "dhash": "523646b6b3ddedd2",
    },
    "clip.mp4": {
        "frame_sequence": [
            "8c3e3e1e0f1b1762",
            "8e1e1e1a38deab43",
            "8e0e1ebe0e11ec73",
            "ae0c3e1e0cbf40f3",
        ],
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
    # The matching hashes: every crop window of a photo, a video's frames at a fixed rate.
    assert m.window_hashes == want.get("window_hashes")
    assert m.frame_sequence == want.get("frame_sequence")
    params = json.loads(m.hash_params or "{}")
    assert params["scheme"] == SCHEME
    assert {"imagehash", "pillow", "phash", "dhash"} <= set(params)
    assert ("sequence" if facts.kind == "video" else "windows") in params


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_file_decoded_once_for_record_and_stamp_keeps_the_pinned_hashes(name: str, tmp_path: Path) -> None:
    """The way a new file is recorded when it is also stamped (one read; a photo decoded once,
    a video's sequence taken by the stamper's pass) gives the same pinned hashes."""
    from PIL import Image

    from inventory.media.probe import probe
    from inventory.record.examine import decode_photo, read, video_facts
    from inventory.record.video import sampling_for
    from watermark.style import Style, VideoSettings
    from watermark.video import stamp_video

    want = PINNED[name]
    r = read(str(FIXTURES / name))
    if r.kind == "image":
        facts, picture = decode_photo(r)
        assert picture is not None
        picture.close()
    else:
        logo = tmp_path / "logo.png"
        Image.new("RGBA", (20, 20), (255, 255, 255, 255)).save(logo)
        found = probe(r.path)
        result = stamp_video(
            FIXTURES / name, tmp_path / name, Style(text="", logo=logo), {}, VideoSettings(preset="ultrafast"),
            probe=found, sampling=sampling_for(found),
        )  # fmt: skip
        assert result.frames is not None
        facts = video_facts(r, found, result.frames)
    m = facts.media
    assert m.decode_error is None and facts.sha256 == want["sha256"]
    assert (m.width, m.height, m.capture_time) == (*want["size"], want["capture_time"])
    assert (m.phash, m.dhash) == (want["phash"], want["dhash"])
    assert m.frame_hashes == want.get("frame_hashes")
    assert m.window_hashes == want.get("window_hashes")
    assert m.frame_sequence == want.get("frame_sequence")
