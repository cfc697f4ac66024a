"""The stamper's one ffmpeg filter graph: the mark (and the credits card) as PNG files in the
frames' stored orientation, the overlay, the optional credits, and the optional branch that takes
the inventory's grey frames from the same decode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from watermark.style import Style
from watermark.video_info import VideoInfo

if TYPE_CHECKING:
    from fractions import Fraction

    from PIL import Image

CARD_BACKGROUND = (17, 17, 20)
CARD_SIZE = 0.09  # height of the card's mark, as a fraction of the short side

# ---------------------------------------------------------------------------------------------
# The mark and the credits card, as PNG files in stored orientation

_TO_STORED = {90: "ROTATE_270", 180: "ROTATE_180", 270: "ROTATE_90"}


def to_stored(im: Image.Image, rotation: int) -> Image.Image:
    """Turn a picture drawn upright (as displayed) into the orientation the frames are stored
    in: a player rotates stored frames by ``rotation`` degrees counter-clockwise, so we turn
    the other way."""
    from PIL import Image

    name = _TO_STORED.get(rotation)
    return im if name is None else im.transpose(getattr(Image.Transpose, name))


def write_mark(
    style: Style, fields: Mapping[str, str], info: VideoInfo, path: Path
) -> tuple[int, int] | None:
    """Render the mark once for the displayed size, turn it to the stored orientation, crop it
    to the pixels it covers and save it as a PNG. Returns where its top-left corner goes on the
    stored frame, or None when the mark covers nothing."""
    from watermark.mark import render_mark

    overlay = to_stored(render_mark(style, info.display_size, fields).overlay(), info.rotation)
    box = overlay.getchannel("A").getbbox()
    if box is None:
        return None
    overlay.crop(box).save(path, format="PNG", compress_level=1)
    return box[0], box[1]


def write_card(style: Style, fields: Mapping[str, str], info: VideoInfo, path: Path) -> None:
    """The account card for the credits (``credits_card``) at the displayed size, saved in the
    orientation of the stored frames."""
    card = credits_card(style, fields, info.display_size)
    to_stored(card, info.rotation).save(path, format="PNG", compress_level=1)


def credits_card(style: Style, fields: Mapping[str, str], size: tuple[int, int]) -> Image.Image:
    """The account card for the credits, upright, ``size`` = (width, height): the mark's body,
    opaque and large, centred on a dark background (also the app's preview of the credits)."""
    from PIL import Image

    from watermark.mark import render_mark

    card_style = replace(style, position="center", opacity=1.0, size=CARD_SIZE, margin=0.06)
    width, height = size
    card = Image.new("RGBA", (width, height), (*CARD_BACKGROUND, 255))
    card.alpha_composite(render_mark(card_style, (width, height), fields).overlay())
    return card.convert("RGB")


# ---------------------------------------------------------------------------------------------
# The filter graph


def frame_rate(fps: float) -> Fraction:
    """ffmpeg prints rounded rates (29.97, 23.98): back to the exact NTSC rates, else a fraction."""
    from fractions import Fraction

    for base in (24, 30, 48, 60, 120, 240):
        if abs(fps - base * 1000 / 1001) < 0.01:
            return Fraction(base * 1000, 1001)
    if fps <= 0:
        return Fraction(30)
    if abs(fps - round(fps)) < 0.01:
        return Fraction(round(fps))
    return Fraction(fps).limit_denominator(1001)


@dataclass(frozen=True)
class Card:
    seconds: float  # exact length: a whole number of frames
    frames: int


def card(seconds: float, rate: Fraction) -> Card | None:
    if seconds <= 0:
        return None
    frames = max(1, round(seconds * rate))
    return Card(float(frames / rate), frames)


def _card_chain(label: str, out: str, card: Card, rate: Fraction, fade: float, sar: str) -> str:
    step = 1 / rate  # one frame: the card's time base, so that frame N is at pts N
    chain = f"[{label}]loop=loop={card.frames - 1}:size=1:start=0,"
    chain += f"settb={step.numerator}/{step.denominator},setpts=N"
    fade = min(max(fade, 0.0), card.seconds / 2)
    if fade > 0:
        chain += f",fade=t=in:st=0:d={fade:.3f},fade=t=out:st={card.seconds - fade:.3f}:d={fade:.3f}"
    return f"{chain},setsar={sar}[{out}]"


GREY_SOURCE = "[km_grey]"


def filter_graph(
    info: VideoInfo,
    mark_at: tuple[int, int] | None,
    opening: Card | None,
    closing: Card | None,
    fade: float,
    grey: str | None = None,
) -> tuple[str, list[str]]:
    """The one filter graph, and the ``-map`` options for its outputs. Inputs: 0 the video,
    then the mark (when it covers anything), then the card (when there are credits).

    ``grey``: branches (``inventory.media.frames.pass_branches``) that read the decoded
    frames as ``GREY_SOURCE``; the video stream is then split, before the mark and the cards,
    so they see the source's frames only."""
    main = f"[0:{info.stream}]"
    head: list[str] = []
    if grey is not None:
        head = [f"{main}split=2[km_video]{GREY_SOURCE}", grey]
        main = "[km_video]"
    card_input = 1
    if mark_at is not None:
        x, y = mark_at
        main_chain = f"{main}[1:v]overlay=x={x}:y={y}:eof_action=repeat"
        card_input = 2
    else:
        main_chain = f"{main}null"
    if opening is None and closing is None:
        return ";".join([*head, f"{main_chain}[v]"]), ["-map", "[v]", *_audio_maps(info)]
    rate = frame_rate(info.fps)
    sar = f"{info.sar[0]}/{info.sar[1]}"
    parts = [*head, f"{main_chain},setsar={sar}[main]"]
    cards = [c for c in (opening, closing) if c is not None]
    if len(cards) == 2:
        parts.append(f"[{card_input}:v]split=2[card0][card1]")
        sources = ["card0", "card1"]
    else:
        parts.append(f"[{card_input}:v]null[card0]")
        sources = ["card0"]
    segments: list[str] = []
    n_audio = len(info.audio)

    def card_segment(card: Card, name: str) -> None:
        parts.append(_card_chain(sources.pop(0), name, card, rate, fade, sar))
        segments.append(f"[{name}]")
        for k, stream in enumerate(info.audio):
            silence = f"{name}_a{k}"
            parts.append(
                f"anullsrc=r={stream.sample_rate}:cl={stream.layout},"
                f"atrim=duration={card.seconds:.6f}[{silence}]"
            )
            segments.append(f"[{silence}]")

    if opening is not None:
        card_segment(opening, "opening")
    segments.append("[main]")
    segments.extend(f"[0:{stream.index}]" for stream in info.audio)
    if closing is not None:
        card_segment(closing, "closing")
    outs = "[v]" + "".join(f"[a{k}]" for k in range(n_audio))
    parts.append(f"{''.join(segments)}concat=n={len(cards) + 1}:v=1:a={n_audio}{outs}")
    maps = ["-map", "[v]"]
    for k in range(n_audio):
        maps += ["-map", f"[a{k}]"]
    return ";".join(parts), maps


def _audio_maps(info: VideoInfo) -> list[str]:
    maps: list[str] = []
    for stream in info.audio:
        maps += ["-map", f"0:{stream.index}"]
    return maps
