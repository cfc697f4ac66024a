"""``backup init``: write a new profile."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import add_json, command, emit_json, out

DESCRIPTION = """\
Create a profile for a creator account in $KEEPMARK_HOME/profiles/NAME.toml.

example:
  backup init lily --account "Lily Chen" --handle lily.shoots \\
      --source ~/Pictures/Shoots --target /Volumes/Backup \\
      --target s3://lily-backups/keepmark --target rclone:gdrive:Keepmark

A --target is one of:
  /Volumes/Backup/Keepmark   an absolute folder path (~ expanded): an external drive or a NAS;
                             it must exist, or its parent, or be on a drive not connected now
  s3://BUCKET/PREFIX         an S3 bucket; --endpoint, --region, --addressing for S3-compatible
                             services (Cloudflare R2, Backblaze B2, MinIO, Aliyun OSS, Tencent COS)
  rclone:REMOTE:PATH         any rclone remote; REMOTE:PATH alone works too when REMOTE is in
                             rclone's config (rclone listremotes)
A relative path is refused: it would be a folder on this computer's own disk.

trusted timestamps (RFC 3161):
  Each signed checkpoint of the ledger is sent to a public timestamp authority, whose signed
  answer proves when you had your originals. Only the SHA-256 hash of each checkpoint is sent:
  never a file, a file name or anything about your account. By default the first of these is
  chosen; --tsa KEY picks another, --tsa URL --tsa-certificate CA.pem any authority, --no-tsa
  none (checkpoints are then signed by your own key only):
{authorities}
  A checkpoint signed while offline is timestamped by the next scan, backup or `backup watch`.

an S3-compatible service, e.g. Cloudflare R2:
  backup init lily --account "Lily Chen" --handle lily.shoots --source ~/Pictures/Shoots \\
      --target s3://lily-backups/keepmark --region auto \\
      --endpoint https://ACCOUNT_ID.r2.cloudflarestorage.com
"""


def _description() -> str:
    from backup.app.timestamps import offered

    try:
        rows = [f"    {a['key']:<10} {a['url']:<31} {a['name']}" for a in offered()]
    except Exception:  # a broken KEEPMARK_TSA_AUTHORITIES must not break --help; init says why
        rows = []
    return DESCRIPTION.format(authorities="\n".join(rows) or "    (none offered here)")


def register(sub: Any) -> None:
    p = command(sub, "init", "create a profile for a creator account", _description())
    p.add_argument("name", nargs="?", metavar="NAME", help="the profile's name (letters, digits, . _ -)")
    p.add_argument(
        "-p", "--profile", dest="profile_name", metavar="NAME", help="the profile's name, instead of NAME"
    )
    p.add_argument("--account", required=True, help='the account\'s display name, e.g. "Lily Chen"')
    p.add_argument("--handle", required=True, help="the account's handle or ID, e.g. lily.shoots")
    p.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="DIR",
        help="a folder you shoot or export into (repeatable)",
    )
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="SPEC",
        help="where backups go: an absolute folder path, s3://bucket/prefix, rclone:remote:path or "
        "remote:path (repeatable)",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="the S3 targets' service address, for S3-compatible services "
        "(e.g. https://s3.us-west-004.backblazeb2.com)",
    )
    p.add_argument("--region", metavar="NAME", help="the S3 targets' region (e.g. us-east-1; auto for R2)")
    p.add_argument(
        "--addressing",
        choices=("path", "virtual"),
        help="how the S3 targets' bucket is addressed: path (https://host/bucket) or virtual "
        "(https://bucket.host); default path with --endpoint, virtual for Aliyun OSS and Tencent COS",
    )
    p.add_argument(
        "--important",
        action="append",
        default=[],
        metavar="DIR",
        help="a subfolder backed up in real time (repeatable)",
    )
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="GLOB",
        help="files to leave out, e.g. '*.lrcat-wal' (repeatable)",
    )
    p.add_argument("--output", metavar="DIR", help="where stamped copies go: a folder outside the sources")
    p.add_argument(
        "--tsa",
        metavar="KEY|URL",
        help="the timestamp authority: one listed below by key (digicert, sectigo, freetsa) or "
        "any RFC 3161 address with --tsa-certificate; default: the first listed",
    )
    p.add_argument(
        "--tsa-certificate",
        metavar="PEM",
        help="the --tsa URL authority's CA certificate, which its timestamps are verified against",
    )
    p.add_argument(
        "--no-tsa", action="store_true", help="no trusted timestamps: checkpoints signed by your own key only"
    )
    p.add_argument("--force", action="store_true", help="replace an existing profile of that name")
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from backup.app.profiles import init, require_name
    from backup.app.timestamps import WHAT_IS_SENT

    created = init(
        require_name(args.name, args.profile_name),
        account=args.account,
        handle=args.handle,
        sources=args.source,
        targets=args.target,
        important=args.important,
        ignore=args.ignore,
        output=args.output,
        overwrite=args.force,
        endpoint=args.endpoint,
        region=args.region,
        addressing=args.addressing,
        tsa=args.tsa,
        tsa_certificate=args.tsa_certificate,
        no_tsa=args.no_tsa,
    )
    profile = created.profile
    if args.json:
        emit_json(created.as_dict())
    else:
        out(f"Wrote profile {profile.name!r} to {profile.file}")
        chosen = created.timestamps
        if chosen is not None:
            a = chosen.authority
            how = (
                "chosen by default; --tsa KEY|URL for another, --no-tsa for none"
                if chosen.default
                else "chosen"
            )
            out(f"Trusted timestamps: {a.name} ({a.url}), {how}.")
            out(f"  {WHAT_IS_SENT}")
        else:
            out("Trusted timestamps: none (checkpoints are signed by your own key only; see [proof]).")
        out(f"Next: backup profile check -p {profile.name}; backup inventory scan -p {profile.name}")
    return 0
