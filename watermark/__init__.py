"""Keepmark's watermarking: semi-transparent account marks stamped on copies of photos and
videos for publishing. Independent of the ``backup`` and ``inventory`` packages."""

__all__: list[str] = []
