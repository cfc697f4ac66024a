"""A video's facts: header (duration, display size, rotation, codecs, creation time) and hashes.

The header comes from the one probe (``inventory.media.probe``). The hashes are pHashes of 64x64
grey frames (``inventory.media.frames``): one at each of ``FRAME_POINTS`` evenly spaced points
(input seeks, so a long video is not decoded end to end; the middle one is the video's pHash),
and the sequence at ``SEQUENCE_RATE`` per second through the whole video, for matching clips.

The sequence costs a whole decode, and the seeks about one more on a clip with long GOPs (each
decodes from the keyframe before its point). When the video is being stamped, the stamper's pass
takes both on the way (ask it for ``sampling_for(probe)``) and hands them here; they stand for
the separate decodes where ``inventory.media.keyframes.seeks_match_pass`` proves them the same
frames (the stream is read without decoding it):

- the sequence, when the pass turned its frames as autorotation does (the display matrix a
  plain rotation, no orientation inside the bitstream) and printed no error;
- the frame at a point, when besides a seek there starts at an IDR picture (or every frame is a
  keyframe) and no frame lies on the point; only the other points are sought.

When the turning is not proved, every point is sought as a scan does, and the pass's sequence is
used once the seeks confirm the pass decoded the frames as they do
(``inventory.media.frames.confirmed``), else the sequence is decoded separately. Either way the
stored hashes are those a scan stores: they never depend on the path taken.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from inventory.match.hashes import frame_hashes, hash_params_for
from inventory.match.params import FRAME_POINTS, FRAME_SIDE, SEQUENCE_RATE
from inventory.media.frames import (
    NO_FRAME,
    Sampling,
    confirmed,
    frame_sequence,
    points,
    seek_each,
    seek_frames,
)
from inventory.media.keyframes import Verdict, seeks_match_pass
from inventory.media.probe import Probe, probe
from inventory.record.facts import MediaFacts

if TYPE_CHECKING:
    from inventory.media.frames import PassFrames


def sampling_for(found: Probe) -> Sampling:
    """The grey frames a stamping pass over this video should take for its hashes."""
    return Sampling(SEQUENCE_RATE, FRAME_SIDE, points(found.duration_ms, FRAME_POINTS))


def video_facts(
    path: str, fmt: str, found: Probe | None = None, taken: PassFrames | None = None
) -> MediaFacts:
    """Read a video's header (``found``, when the caller probed it already) and hash its frames
    (``taken``: the frames a stamping pass took, which stand for separate decodes where they are
    proved or confirmed the same). Never raises: the reason a video does not decode is in
    ``decode_error``."""
    facts = MediaFacts()
    if found is None:
        try:
            found = probe(path)
        except (OSError, subprocess.TimeoutExpired) as exc:
            facts.decode_error = f"could not run ffmpeg: {exc}"
            return facts
    stream = found.first_video
    if stream is None:
        if found.opened:
            facts.decode_error = "no video stream"
        else:
            facts.decode_error = f"does not decode as {fmt.upper()}: {found.error}"
        return facts
    width, height = stream.width, stream.height
    if stream.rotation in (90, 270) and width and height:
        width, height = height, width
    facts.width, facts.height = width, height
    facts.duration_ms = found.duration_ms
    facts.capture_time = _creation_time(found.creation_time)
    details: dict[str, str | int] = {"codec": stream.codec}
    if stream.fps_text is not None:
        details["fps"] = stream.fps_text
    if stream.has_matrix:
        details["rotation"] = stream.rotation
    if found.audio:
        details["audio_codec"] = found.audio[0].codec
    facts.details = dict(details)
    sampling = sampling_for(found)
    proved = proof(path, found, sampling, taken)
    if taken is not None and proved is not None and proved.turned_alike:
        # the pass's frames where they are proved the seeks', a seek where they are not
        seeks: list[bytes | None] = list(taken.at_points)
        sought = [i for i, ok in enumerate(proved.points) if not ok]
        found_there, error = seek_each(path, [sampling.points[i] for i in sought], FRAME_SIDE)
        for i, frame in zip(sought, found_there, strict=False):
            seeks[i] = frame
        if error is None and not any(seeks):
            error = NO_FRAME  # as seek_frames says it
    else:
        seeks, error = seek_frames(path, sampling.points, FRAME_SIDE)
    if error is not None:
        facts.decode_error = f"does not decode as {fmt.upper()}: {error}"
    hashes = frame_hashes(f for f in seeks if f is not None)
    if hashes:
        facts.frame_hashes = hashes
        facts.phash = hashes[len(hashes) // 2]
        facts.hash_params = hash_params_for("video")
        if taken is not None and proved is not None and (proved.turned_alike or confirmed(taken, seeks)):
            sequence = list(taken.sequence)
        else:
            sequence, _ = frame_sequence(path, SEQUENCE_RATE, FRAME_SIDE)
        facts.frame_sequence = frame_hashes(sequence) or None
    return facts


def proof(path: str, found: Probe, sampling: Sampling, taken: PassFrames | None) -> Verdict | None:
    """What is proved of the frames a stamping pass took (None when it took none, took other
    frames than ``sampling`` asks for, or printed an error: then it is only confirmed)."""
    if taken is None or taken.sampling != sampling or len(taken.at_points) != len(sampling.points):
        return None
    if not taken.clean:
        return Verdict(False, (False,) * len(sampling.points), "the pass printed an error")
    return seeks_match_pass(path, found, sampling.points)


def capture_time(found: Probe) -> str | None:
    """When the video was shot, as its container says (none for the zero dates cameras write)."""
    return _creation_time(found.creation_time)


def _creation_time(value: str | None) -> str | None:
    if not value or value.startswith("1970-01-01") or value.startswith("1904-01-01"):
        return None
    value = value.strip()
    if value.endswith("000000Z") and "." in value:
        value = value.split(".")[0] + "Z"
    return value
