"""Where a seek starts decoding, read from a video's bitstream without decoding it.

The frames hashed at evenly spaced points of a video are, by definition, the first frame each
input seek gives (``inventory.media.frames.seek_frames``): ffmpeg seeks to the last sync sample
(a packet its demuxer flags as a key frame) at or before the point, decodes from there, and drops
what comes before the point. A pass that decodes the whole video from its start (the stamper's)
takes the first frame at or after each point on the way. The two are the same frame, bit for
bit, when the decoder forgets everything at each sync sample:

- in H.264, when every sync sample is an IDR picture (NAL unit type 5), and in HEVC an IDR
  (types 19, 20): an IDR empties the decoder's reference pictures, so a decode from it gives what
  a decode from the start gives. A non-IDR I picture that is a sync sample (x264's
  ``--open-gop``, a camera's recovery points) or an HEVC CRA/BLA (x265's default open GOPs) is
  not enough: the pictures that follow it may refer to pictures before it, which a seek never
  decoded;
- in an intra-only codec (ProRes, DNxHD), where every frame is its own.

``read_layout`` reads that in one ffmpeg run that copies the video stream without decoding it
(``-c copy``): the ``trace_headers`` bitstream filter prints every NAL unit's header, and the
``framecrc`` muxer every packet's timestamps and flags (0.2 s for a 100 MB clip).
``seeks_match_pass`` then checks what else the frames depend on; anything unusual means "not
proved", and what is not proved is done the separate way:

- the turning, for every frame the pass takes: the pass turns its frames by the angle the probe
  printed, which is what ffmpeg's autorotation does only when the display matrix is a plain
  rotation (``inventory.media.matrix``) and no display-orientation SEI message turns the
  pictures inside the bitstream;
- the decoding, for the frames at the points: every sync sample an IDR (or an intra-only codec),
  every frame decoded before a sync sample shown before every frame from it on, and in H.264
  with reordered frames a declared reordering depth (else ffmpeg's decoder learns it on the way,
  and a decode that starts later may drop a frame the other keeps); no packet flagged corrupt or
  without a timestamp, no field-coded picture, no second layer;
- the timing, point by point: no frame within two ticks of the point (a seek and a pass round it
  to the stream's time base in different ways), and no sync sample shown after the point that
  could be decoded before it (the MP4 demuxer looks sync samples up by decoding time, so the
  seek could start past the frame the pass took). Only a point that fails this is sought.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from inventory.media.ffmpeg import ffmpeg_exe, no_window
from inventory.media.matrix import pure_rotation, track_matrix
from inventory.media.probe import Probe

LAYOUT_TIMEOUT = 1800

# The codecs whose bitstream is read (``trace_headers``) and the NAL unit types of their IDR
# pictures; and the codecs whose every frame is coded on its own.
IDR_TYPES = {"h264": frozenset({5}), "hevc": frozenset({19, 20})}
INTRA_ONLY = frozenset({"prores", "dnxhd"})
# The SEI message that turns or mirrors the decoded pictures (H.264 and HEVC payload type 47).
DISPLAY_ORIENTATION_SEI = 47
# A frame this close to a point (in ticks of the stream's time base) could fall on either side.
MARGIN_TICKS = 2

_NOPTS = -(2**63)
# A line ffmpeg printed as an error (``-loglevel +level`` puts the level after the speaker).
_LOUD = re.compile(r"^(?:\[[^\]]*\] )?\[(?:error|fatal|panic)\] ")
_KEY, _CORRUPT, _DISCARD = 0x1, 0x2, 0x4


@dataclass
class Packet:
    """One packet of the video stream, in decoding order."""

    dts: int | None
    pts: int | None
    size: int
    flags: int  # ffmpeg's AV_PKT_FLAG_*: 1 key (a sync sample), 2 corrupt, 4 discard
    nal_types: list[int] = field(default_factory=list)  # its VCL NAL units (slices), in order

    @property
    def key(self) -> bool:
        return bool(self.flags & _KEY)


@dataclass
class Layout:
    """What ``read_layout`` learnt of the first video stream, or why it learnt nothing."""

    codec: str
    time_base: Fraction | None = None
    packets: list[Packet] = field(default_factory=list)
    traced: bool = False  # the NAL units were read (H.264 and HEVC)
    sei_types: set[int] = field(default_factory=set)
    reorder_declared: bool = True  # H.264: every SPS has bitstream_restriction_flag = 1
    fields: bool = False  # a slice codes one field of an interlaced frame
    layers: bool = False  # a NAL unit of another layer or view (scalable or multi-view coding)
    failure: str | None = None  # ffmpeg failed or printed something this parser does not follow


@dataclass(frozen=True)
class Verdict:
    """What is proved of a pass from the start that turns its frames by the probed rotation and
    takes the first frame at or after each point (``inventory.media.frames.pass_branches``)."""

    turned_alike: bool  # it turns (and converts) the frames as ffmpeg's autorotation does
    points: tuple[bool, ...]  # per point: its frame there is, bit for bit, the seek's
    reason: str  # why not everything is proved ("" when it is)

    @property
    def exact(self) -> bool:
        """Every frame the pass took stands for what a separate decode gives."""
        return self.turned_alike and all(self.points)


# ---------------------------------------------------------------------------------------------
# Reading the stream


def read_layout(path: str, codec: str, timeout: float = LAYOUT_TIMEOUT) -> Layout:
    """Copy the first video stream to nowhere, reading its packets (and, for H.264 and HEVC,
    its NAL unit headers) on the way. Never raises: ``failure`` says what went wrong."""
    layout = Layout(codec)
    traced = codec in IDR_TYPES
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "repeat+level+info",
        "-i", path, "-map", "0:v:0", "-c", "copy", "-copyinkf", "-copypriorss", "1",
        *(["-bsf:v", "trace_headers"] if traced else []), "-f", "framecrc", "-",
    ]  # fmt: skip
    trace = _TraceReader(layout) if traced else None
    errors: list[str] = []
    try:
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, **no_window()
            )
            timer = threading.Timer(timeout, proc.kill)  # (stderr is read as it comes: it is long)
            timer.start()
            try:
                assert proc.stderr is not None
                for raw in proc.stderr:
                    line = raw.decode("utf-8", "replace")
                    if _LOUD.search(line):
                        errors.append(line.strip())
                    elif trace is not None and line.startswith("[trace_headers @ "):
                        trace.feed(line)
                code = proc.wait()
                if trace is not None:
                    trace.finish()
            finally:
                timer.cancel()
                timer.join()
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            out.seek(0)
            crc = out.read().decode("utf-8", "replace")
    except OSError as exc:
        layout.failure = f"could not run ffmpeg: {exc}"
        return layout
    if code != 0 or errors:
        layout.failure = errors[-1] if errors else f"ffmpeg ended with code {code}"
        return layout
    packets = parse_framecrc(crc)
    if packets is None:
        layout.failure = "ffmpeg's packet list was not understood"
        return layout
    layout.time_base, listed = packets
    if trace is not None:
        traced_packets = trace.packets
        same = len(traced_packets) == len(listed) and all(
            a.size == b.size and a.key == b.key for a, b in zip(traced_packets, listed, strict=True)
        )
        if not same or trace.surprise:
            layout.failure = trace.surprise or "the bitstream trace and the packet list disagree"
            return layout
        for mine, seen in zip(listed, traced_packets, strict=True):
            mine.nal_types = seen.nal_types
        layout.traced = True
    layout.packets = listed
    return layout


def parse_framecrc(text: str) -> tuple[Fraction, list[Packet]] | None:
    """The time base and the packets of stream 0 in what ffmpeg's ``framecrc`` muxer wrote
    (``#tb 0: 1/15360``, then ``0, dts, pts, duration, size, 0xcrc[, F=0xflags]`` per packet:
    no ``F=`` means the key flag alone); None when it is not that."""
    time_base: Fraction | None = None
    packets: list[Packet] = []
    for line in text.splitlines():
        if line.startswith("#tb 0:"):
            num, _, den = line.split(":", 1)[1].strip().partition("/")
            if not (num.isdigit() and den.isdigit()) or int(num) == 0 or int(den) == 0:
                return None
            time_base = Fraction(int(num), int(den))
            continue
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 6 or parts[0] != "0":
            return None
        try:
            dts, pts, size = int(parts[1]), int(parts[2]), int(parts[4])
            flags = _KEY
            for extra in parts[6:]:
                if extra.startswith("F="):
                    flags = int(extra[2:], 16)
        except ValueError:
            return None
        packets.append(Packet(None if dts == _NOPTS else dts, None if pts == _NOPTS else pts, size, flags))
    if time_base is None or not packets:
        return None
    return time_base, packets


class _TraceReader:
    """Follows ``trace_headers``' lines: a ``Packet:`` line opens a packet, then the title of
    each NAL unit (and SEI message) of it, then one line per field
    (``<bit position> <name> <bits> = <value>``)."""

    _WANTED = frozenset(
        {
            "nal_unit_type", "nuh_layer_id", "field_pic_flag", "field_seq_flag",
            "bitstream_restriction_flag", "ff_byte", "last_payload_type_byte", "last_payload_size_byte",
        }
    )  # fmt: skip
    _INFO = "] [info] "

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.packets: list[Packet] = []
        self.surprise: str | None = None
        self._sps = 0  # H.264 sequence parameter sets seen
        self._restricted = 0  # ... of which declare their reordering (bitstream_restriction_flag)
        self._ff = 0  # 0xFF bytes before an SEI message's type or size byte

    def feed(self, line: str) -> None:
        at = line.find(self._INFO)
        if at < 0:
            return  # a warning (such as spare bytes after an avcC header's parameter sets)
        text = line[at + len(self._INFO) :].strip()
        if not text:
            return
        if text[0].isdigit():
            self._field(text)
        elif text.startswith("Packet: "):
            self._packet(text)
        elif text == "Sequence Parameter Set" and self.layout.codec == "h264":
            self._sps += 1

    def finish(self) -> None:
        if self.layout.codec == "h264":
            self.layout.reorder_declared = self._sps > 0 and self._restricted >= self._sps

    def _packet(self, text: str) -> None:
        size = text[len("Packet: ") :].split(" ", 1)[0]
        if not size.isdigit():
            self.surprise = self.surprise or f"trace_headers printed {text!r}"
            return
        self.packets.append(Packet(None, None, int(size), _KEY if ", key frame" in text else 0))

    def _field(self, text: str) -> None:
        parts = text.split(None, 2)
        if len(parts) < 3 or parts[1] not in self._WANTED:
            return
        name, value_text = parts[1], parts[2].rpartition("=")[2].strip()
        try:
            value = int(value_text)
        except ValueError:
            self.surprise = self.surprise or f"trace_headers printed {text!r}"
            return
        layout = self.layout
        if name == "nal_unit_type":
            self._nal_unit(value)
        elif name == "nuh_layer_id" and value != 0:
            layout.layers = True
        elif name in ("field_pic_flag", "field_seq_flag") and value == 1:
            layout.fields = True
        elif name == "bitstream_restriction_flag" and value == 1:
            self._restricted += 1
        elif name == "ff_byte":
            self._ff += 1
        elif name == "last_payload_type_byte":
            layout.sei_types.add(255 * self._ff + value)
            self._ff = 0
        elif name == "last_payload_size_byte":
            self._ff = 0

    def _nal_unit(self, kind: int) -> None:
        if self.layout.codec == "h264":
            if kind in (14, 15, 20):  # the extensions of scalable and multi-view coding
                self.layout.layers = True
            vcl = 1 <= kind <= 5
        else:
            vcl = kind <= 31
        if not vcl:
            return
        if not self.packets:
            self.surprise = self.surprise or "a slice outside any packet"
            return
        self.packets[-1].nal_types.append(kind)


# ---------------------------------------------------------------------------------------------
# The verdict


def seeks_match_pass(path: str, found: Probe, at: Sequence[float], layout: Layout | None = None) -> Verdict:
    """What is proved of a pass over ``path`` (probed as ``found``) that takes the first frame at
    or after each of ``at`` (seconds, rounded to the millisecond as ``seek_frames`` rounds them):
    that it turns its frames as autorotation does, and at which points its frame is the seek's
    (``layout``: the stream's, when read already)."""
    none = (False,) * len(at)
    stream = found.first_video
    if stream is None or stream.attached_pic:
        return Verdict(False, none, "no video stream to seek in")
    if not found.mov_family:
        return Verdict(False, none, "not an MP4 or MOV file")
    if stream.has_matrix:
        matrix = track_matrix(path, stream.index)
        if matrix is None or pure_rotation(matrix) != stream.rotation:
            return Verdict(False, none, "the display matrix is not a plain rotation")
    codec = stream.codec
    if codec not in IDR_TYPES and codec not in INTRA_ONLY:
        return Verdict(False, none, f"the bitstream of {codec} is not read")
    if layout is None:
        layout = read_layout(path, codec)
    if layout.failure is not None:
        return Verdict(False, none, f"the stream could not be read: {layout.failure}")
    if DISPLAY_ORIENTATION_SEI in layout.sei_types:
        return Verdict(False, none, "a display orientation SEI message turns the pictures")
    reason = _decodes_alike(layout)
    if reason is not None:
        return Verdict(True, none, reason)
    if found.start is None:
        return Verdict(True, none, "the file's start time is not known")
    points = _timing(layout, at, found.start)
    reasons = [why for why in points if why is not None]
    return Verdict(True, tuple(why is None for why in points), reasons[0] if reasons else "")


def _decodes_alike(layout: Layout) -> str | None:
    """Why a decode that starts at a sync sample may give other frames than one from the start
    (None: it gives the same)."""
    packets = layout.packets
    if any(p.flags & _CORRUPT for p in packets):
        return "a packet is flagged corrupt"
    shown = [p.pts for p in packets if p.pts is not None]
    if len(shown) < len(packets) or any(p.dts is None for p in packets):
        return "a packet has no timestamp"
    if not packets[0].key:
        return "the stream does not start with a sync sample"
    if layout.codec in INTRA_ONLY:
        return None if all(p.key for p in packets) else "a frame of an intra-only codec is not a sync sample"
    if not layout.traced:
        return "the bitstream was not read"
    idr = IDR_TYPES[layout.codec]
    for p in packets:
        if not p.nal_types:
            return "a packet without a slice"
        if p.key and not all(t in idr for t in p.nal_types):
            return "a sync sample is not an IDR picture (an open GOP or a recovery point)"
    if layout.fields:
        return "field-coded pictures"
    if layout.layers:
        return "more than one layer (scalable or multi-view coding)"
    if not _closed(shown, [p.key for p in packets]):
        return "a frame decoded before a sync sample is shown after it"
    reordered = any(b <= a for a, b in itertools.pairwise(shown))
    if layout.codec == "h264" and reordered and not layout.reorder_declared:
        return "reordered frames and no declared reordering depth"
    return None


def _closed(pts: Sequence[int], key: Sequence[bool]) -> bool:
    """Every frame decoded before each sync sample is shown before every frame from it on."""
    later = list(pts)
    for i in range(len(later) - 2, -1, -1):
        later[i] = min(later[i], later[i + 1])
    shown_before: int | None = None
    for i, p in enumerate(pts):
        if key[i] and shown_before is not None and shown_before >= later[i]:
            return False
        shown_before = p if shown_before is None else max(shown_before, p)
    return True


def _timing(layout: Layout, at: Iterable[float], start: float) -> list[str | None]:
    """Per point of ``at``: why a seek there may round the point to another frame than the pass,
    or start decoding past the frame the pass took (None: neither). In ticks of the stream's
    time base."""
    tb = layout.time_base
    assert tb is not None
    packets = layout.packets
    pts = sorted(p.pts for p in packets if p.pts is not None)
    shown = sorted((p.pts, i) for i, p in enumerate(packets) if p.pts is not None and not p.flags & _DISCARD)
    keys = [(i, p.dts) for i, p in enumerate(packets) if p.key and p.dts is not None]
    # The MP4 demuxer looks a point up among decoding times, less the stream's first
    # presentation time and its composition shift (never negative): at most the point itself,
    # unless the stream starts before the file's start.
    late = max(Fraction(0), -(Fraction(f"{start:.6f}") / tb + pts[0]))
    found: list[str | None] = []
    for point in at:
        t = Fraction(f"{point:.3f}") / tb
        near = bisect.bisect_left(pts, math.ceil(t - MARGIN_TICKS))
        if near < len(pts) and pts[near] <= t + MARGIN_TICKS:
            found.append(f"a frame lies on the point at {point:.3f} s")
            continue
        first = bisect.bisect_left(shown, (math.ceil(t), -1))
        if first < len(shown):
            target, line = shown[first][1], t + late + MARGIN_TICKS
            if any(i > target and dts <= line for i, dts in keys):
                found.append(f"a sync sample shown after {point:.3f} s may be decoded before it")
                continue
        found.append(None)  # (past the last frame: neither gives a frame)
    return found
