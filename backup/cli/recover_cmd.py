"""``backup recover``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out, warn
from backup.humanize import count, when
from backup.humanize import size as human_size

DESCRIPTION = """\
After the laptop is lost: bring a profile back from one of its backup targets into this
computer's Keepmark home. SPEC is written as for `backup init --target`: a folder (the backup
drive), s3://bucket/prefix or rclone:remote:path. Credentials come from where Keepmark always
finds them (the AWS credential chain, rclone's config).

  backup recover --from /Volumes/Backup/Keepmark             list the profiles there
  backup recover --from /Volumes/Backup/Keepmark --profile lily

With --profile it brings back the profile, the inventory and its ledger, every signed
checkpoint with its timestamp token, and the public key; the ledger's chain, each checkpoint's
signature and each token are checked before anything is kept (nothing is written otherwise).
A profile of that name that already exists here is never replaced (exit 2). The private key
never leaves a laptop: the first signing after recover starts a new key and records a
key-rotation ledger entry naming the old one, whose checkpoints keep verifying.

Then `backup restore --target NAME --to DIR` brings the files back.
"""


def register(sub: Any) -> None:
    p = leaf(sub, "recover", "bring a profile back from a backup target (a lost laptop)", DESCRIPTION, run)
    p.add_argument(
        "--from",
        dest="source",
        metavar="SPEC",
        required=True,
        help="the target: a folder, s3://bucket/prefix or rclone:remote:path",
    )
    p.add_argument("--endpoint", metavar="URL", help="the S3-compatible service's address (s3:// only)")
    p.add_argument("--region", metavar="NAME", help="the S3 region (s3:// only)")
    p.add_argument("--addressing", metavar="STYLE", help="path or virtual (s3:// only)")


def run(args: argparse.Namespace) -> int:
    from backup.app.recover import FoundProfiles, recover

    done = recover(
        args.source, args.profile, endpoint=args.endpoint, region=args.region, addressing=args.addressing
    )
    if args.json:
        emit_json(done.as_dict())
        return 0
    if isinstance(done, FoundProfiles):
        if not done.profiles:
            warn(f"no Keepmark profiles in {done.where}")
            return 0
        out(f"profiles in {done.where}:")
        for p in done.profiles:
            who = f" ({p.account})" if p.account else ""
            if p.last_run is None:
                out(f"  {p.name}{who}: no snapshot yet")
            else:
                out(
                    f"  {p.name}{who}: last run {when(p.last_run)} ({p.last_kind}), "
                    f"{count(p.files or 0, 'file')}, {human_size(p.bytes or 0)}, "
                    f"{count(p.snapshots, 'snapshot')}"
                )
        out(f"bring one back with: backup recover --from {done.source} --profile NAME")
        return 0
    inv = done.inventory
    out(f"recovered profile {done.profile} from {done.where}, verified:")
    out(f"  profile     {done.profile_file}")
    out(f"  inventory   {inv['entries']:,} ledger entries, chain intact ({human_size(inv['size'])})")
    out(
        f"  checkpoints {count(len(done.checkpoints), 'signed checkpoint')}, each signature verified; "
        f"{count(done.timestamps, 'timestamp token')} verified"
    )
    out(f"  public keys {', '.join(done.public_keys) or 'none'}")
    if done.snapshot:
        s = done.snapshot
        out(
            f"  last run    {when(s['time'])} ({s['kind']}), {count(s['files'], 'file')}, "
            f"{human_size(s['bytes'])}"
        )
    out(f"  state       {done.state_dir}")
    if done.target:
        out(f"next: backup restore -p {done.profile} --target {done.target} --to DIR")
    else:
        warn(
            f"note: no target of profile {done.profile} is {done.where}; edit {done.profile_file} if it moved"
        )
    out("the first signing from now on starts a new key (a key-rotation ledger entry names the old one)")
    return 0
