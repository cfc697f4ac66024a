"""Keepmark: protects a content creator's photos and videos. This package holds the ``backup``
command line, the daemon, backup runs and targets; it uses ``inventory`` and ``watermark``."""

__version__ = "0.1.0"
