"""The one place that decodes and probes media: ffmpeg, photos (HEIF, EXIF orientation), sniffing."""
