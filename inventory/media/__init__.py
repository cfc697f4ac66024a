"""The one place that decodes and probes media, under the rest of the inventory and the watermark.

- ``ffmpeg``: the bundled ffmpeg (found once), running it, its errors on one line;
- ``probe``: the one ``ffmpeg -i`` probe of a video, parsed one way;
- ``frames``: small grey frames out of ffmpeg (seeks and the fixed-rate sequence), and the
  branches that take them from a pass decoding the video for something else;
- ``keyframes``: a video stream read without decoding it (its sync samples, NAL unit types and
  timestamps), and what that proves of a pass's frames; ``matrix``: an MP4/MOV track's display
  matrix, read from its boxes;
- ``image``: opening a photo and what its header says; ``heif``: HEIC/HEIF/AVIF support;
  ``orientation``: EXIF orientation, the one upright picture;
- ``sniff``: what a file is, from its first bytes.

It imports no other room of the inventory (hashing is ``inventory.match``, recording
``inventory.record``), and nothing of ``watermark`` or ``backup``.
"""
