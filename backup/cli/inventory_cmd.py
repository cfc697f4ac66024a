"""``backup inventory scan|list|show|export``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out, warn
from backup.errors import EXIT_FAILED

SCAN_DESCRIPTION = """\
Record new and changed files of the profile's source folders (or of PATHs inside them).

An unchanged file (same size, mtime and inode as last seen) is not read again. A file that
cannot be read is reported and the scan goes on (exit 1). A photo or video that does not
decode is recorded by its SHA-256 with the reason noted, and reported (exit 1).
"""


def register(sub: Any) -> None:
    inner = group(
        sub,
        "inventory",
        "scan, list, show and export the inventory",
        "The content inventory: every file of your source folders, hashed and recorded.",
    )
    p = leaf(inner, "scan", "record new and changed files", SCAN_DESCRIPTION, run_scan)
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="folders or files inside the source folders (default: all of them)",
    )
    p = leaf(
        inner,
        "list",
        "list the files in the inventory",
        "List the files in the inventory, one line (or JSON entry) per file.",
        run_list,
    )
    p.add_argument("--all", action="store_true", help="also list paths no longer found on disk")
    p = leaf(
        inner,
        "show",
        "everything known about one file",
        "Everything the inventory knows about one file, by SHA-256 (or a prefix of 6+ digits), by\n"
        "path, or by its name alone (IMG_0042.HEIC, found in any folder; when files of that name\n"
        "hold different contents, each path is listed and the command exits 2): its facts, every\n"
        "path it was seen at, and the ledger entries that record it. Times are local (UTC in --json).",
        run_show,
    )
    p.add_argument("ref", metavar="SHA256|PATH|NAME")
    p = leaf(
        inner,
        "export",
        "export the inventory as CSV or JSON",
        "Export every recorded path with its content's facts, as CSV (default) or JSON, in UTF-8.\n"
        "The CSV begins with a UTF-8 byte order mark, so that Excel shows Chinese, Japanese or\n"
        "accented names as they are; --no-bom leaves it out (for tools that do not expect one).",
        run_export,
        json_help="same as --format json",
    )
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default: csv)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument("--no-bom", dest="bom", action="store_false", help="CSV without the UTF-8 byte order mark")


def run_scan(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.scan import scan
    from backup.cli.bars import progress
    from backup.humanize import count, size

    result = scan(load(args.profile), args.paths, progress=progress(not args.json))
    report = result.report
    if args.json:
        emit_json(result.as_dict())
    else:
        out(
            f"Scanned {count(report.files, 'file')} in {count(len(report.roots), 'source folder')}: "
            f"{report.new} new, {report.changed} changed, {report.unchanged} unchanged, "
            f"{len(report.errors) + len(report.undecodable)} errors "
            f"({size(report.bytes_read)} read in {report.seconds:.1f} s)"
        )
        if report.missing:
            out(f"{count(report.missing, 'file')} no longer found (kept in the inventory)")
    for e in report.errors:
        warn(f"error: {e['path']}: {e['error']}")
    for e in report.undecodable:
        warn(f"error: {e['path']}: {e['error']} (recorded by SHA-256 {e['sha256'][:12]})")
    return 0 if result.ok else EXIT_FAILED


def run_list(args: argparse.Namespace) -> int:
    from backup.app.inventory import list_files
    from backup.app.profiles import load
    from backup.humanize import size, when

    result = list_files(load(args.profile), include_missing=args.all)
    if args.json:
        emit_json(result.as_dict())
        return 0
    for r in result.files:
        flag = " (missing)" if r["missing_since"] else ""
        bad = " [does not decode]" if r["decode_error"] else ""
        out(
            f"{r['sha256'][:12]}  {r['kind']:<5}  {r['format']:<5}  {size(r['size']):>9}  "
            f"{when(r['first_seen'])}  {r['path']}{flag}{bad}"
        )
    if not result.files:
        out(f"The inventory is empty: run `backup inventory scan -p {result.profile}`.")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from backup.app.inventory import show
    from backup.app.profiles import load
    from backup.humanize import size, when

    shown = show(load(args.profile), args.ref)
    if args.json:
        emit_json(shown.as_dict())
        return 0
    record = shown.record
    out(f"SHA-256:      {record['sha256']}")
    out(f"Kind:         {record['kind']} ({record['format']}), {size(record['size'])}")
    out(f"First seen:   {when(record['first_seen'], seconds=True)}")
    if record["width"]:
        out(f"Pixels:       {record['width']} x {record['height']}")
    if record["duration_ms"] is not None:
        out(f"Duration:     {record['duration_ms'] / 1000:.2f} s")
    if record["capture_time"]:
        out(f"Captured:     {record['capture_time']}")  # the camera's clock, as it wrote it
    details = record.get("details") or {}
    camera = " ".join(str(details[k]) for k in ("camera_make", "camera_model") if k in details)
    if camera:
        out(f"Camera:       {camera}")
    if record["phash"]:
        out(f"pHash/dHash:  {record['phash']} / {record['dhash'] or '-'}")
    if record["frame_hashes"]:
        out(f"Frame hashes: {' '.join(record['frame_hashes'])}")
    if record["decode_error"]:
        out(f"Decode error: {record['decode_error']}")
    out("Paths:")
    for p in record["paths"]:
        state = "current" if p["current"] else ("missing" if p["missing_since"] else "earlier content")
        out(f"  {p['path']}  (seen {when(p['first_seen'], seconds=True)}, {state})")
    out("Ledger:")
    for e in record["ledger"]:
        out(f"  #{e['seq']} {when(e['time'], seconds=True)} {e['type']} {e['hash'][:16]}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from backup.app.inventory import export
    from backup.app.profiles import load

    output = Path(args.output) if args.output is not None else None
    done = export(load(args.profile), "json" if args.json else args.format, output, bom=args.bom)
    if output is None:
        # UTF-8 whatever the terminal's encoding says: the bytes a file would hold.
        sys.stdout.flush()
        sys.stdout.buffer.write(done.text.encode("utf-8"))
    else:
        print(f"Wrote {done.rows:,} rows to {output}", file=sys.stderr)
    return 0
