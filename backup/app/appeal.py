"""``backup appeal-kit``: what a platform asks of a creator whose account was stolen or banned,
in one folder (and one zip): the account's facts, the inventory as CSV, the publication
records, a timeline of when each original was first recorded and each post published, the
signed checkpoints and their trusted timestamps with ``VERIFY.txt`` (the openssl commands that
check them), and a short letter to adapt and send.

The folder is sealed as an evidence bundle is: ``SHA256SUMS`` lists every file but the letter
(the creator's to fill in) and is signed by the profile's ledger key, so the commands of
``VERIFY.txt`` show that nothing was changed after Keepmark wrote it, that each checkpoint was
signed by that key, and when an authority saw it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from backup import __version__
from backup.app.publish import list_publications
from backup.app.workspace import open_inventory, proof_store
from backup.errors import NothingFound, UsageError
from backup.profile.model import Profile
from backup.proof import lang as langs
from backup.proof import verifytext
from backup.proof.bundle import SealedFolder, check_out, zip_path
from backup.proof.evidence import sig_file, signed_file
from inventory.export import BOM, to_csv
from inventory.ledger.checkpoint import key_id, load_public

KIT_TITLE = {
    "zh": "Keepmark 账号申诉材料：仅用 OpenSSL 核验",
    "en": "Keepmark account appeal kit: checking it with OpenSSL alone",
}
KIT_INTRO = {
    "zh": """\
本文件说明如何不安装 Keepmark、只用 OpenSSL 和命令行核验本申诉材料。
在本文件夹中用 bash 逐条运行下面以 “$ ” 开头的命令（不含 “$ ”）。每条命令在成立时打印一行并以 0
退出；任何一个字节被改动，相关命令就会失败。需要：openssl 1.1.1 或更高版本、sha256sum（macOS 上为
shasum -a 256）、cat，以及 bash。

这些命令证明：
  - 本文件夹中的每个文件（申诉信 letter.txt 除外，由创作者填写）都与创作者密钥签名的 SHA256SUMS 一致；
  - proof/ 中的每个检查点由创作者的 Ed25519 密钥签名，并（如有）由可信时间戳机构按 RFC 3161 加盖
    时间戳：检查点签名时的账本（包括 inventory.csv 中各原件的记录）在时间戳所示时间之前已经存在。
""",
    "en": """\
This file tells how to check this appeal kit without Keepmark, with OpenSSL and a shell alone.
Run each command below that starts with "$ " (without the "$ ") with bash in this folder. Each
prints a line when it holds and exits 0; if any byte was changed, the command concerned fails.
Needs: openssl 1.1.1 or later, sha256sum (shasum -a 256 on macOS), cat, and bash.

The commands show that:
  - every file in this folder but letter.txt (the creator's to fill in) is as listed in
    SHA256SUMS, which the creator's key signed;
  - each checkpoint in proof/ is signed by the creator's Ed25519 key and, when it has one,
    timestamped by a trusted timestamp authority (RFC 3161): the ledger it signed (the records
    of the originals in inventory.csv among them) existed by the time the timestamp states.
""",
}
LETTER = "letter.txt"  # outside the seal: the creator fills it in and signs it
FILES = {
    "account": "account.json",
    "inventory": "inventory.csv",
    "publications": "publications.csv",
    "timeline": "timeline.csv",
}


@dataclass
class AppealKit:
    profile: str
    folder: Path
    zip: Path
    lang: str
    originals: int
    publications: int
    checkpoints: int
    timestamped: int
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "folder": str(self.folder),
            "zip": str(self.zip),
            "lang": self.lang,
            "originals": self.originals,
            "publications": self.publications,
            "checkpoints": self.checkpoints,
            "timestamped": self.timestamped,
            "files": self.files,
        }


def default_out(profile: Profile, today: date | None = None) -> Path:
    return Path.cwd() / f"appeal-kit-{profile.name}-{(today or date.today()).isoformat()}"


def appeal_kit(profile: Profile, out: Path | None = None, *, lang: str | None = None) -> AppealKit:
    """Write the appeal kit of ``profile`` to the folder ``out`` (new, or empty) and beside it
    ``out.zip`` holding the same folder; ``lang`` (``en`` or ``zh``, default the profile's
    language) is the language of the letter, the timeline's words and the order of
    VERIFY.txt."""
    chosen = langs.pick(lang, profile.account.language)
    out = (out or default_out(profile)).expanduser().absolute()
    zipped = zip_path(out)
    check_out(out)
    if zipped.exists():
        raise UsageError(f"{zipped}: already exists; choose another --out for the kit")
    store = proof_store(profile)
    stored = store.stored()
    if not stored:
        raise NothingFound(
            f"profile {profile.name!r} has no signed checkpoint yet: run `backup inventory scan` first"
        )
    with open_inventory(profile, create=False) as inv:
        rows = inv.export_rows()
        originals = [
            e
            for e in (x.as_dict() for x in inv.ledger_entries_typed("original"))
            if e["data"].get("sha256") and e["data"].get("kind") in ("image", "video")
        ]
    pubs = list_publications(profile).items
    chosen_cps = [s for s in stored if s.token is not None] or []
    if stored[-1] not in chosen_cps:
        chosen_cps.append(stored[-1])  # the newest covers every record

    folder = SealedFolder(out)
    put = folder.put
    try:
        account = _account(profile, rows, originals, pubs, stored)
        put(FILES["account"], (json.dumps(account, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        put(FILES["inventory"], to_csv(rows).encode("utf-8"))
        put(FILES["publications"], _csv(PUB_FIELDS, pubs).encode("utf-8"))
        put(FILES["timeline"], _csv(TIMELINE_FIELDS, _timeline(originals, pubs, chosen)).encode("utf-8"))
        keys = _put_keys(store.files(), put)
        checks = verifytext.seal_checks("proof/ledger-key.pub.pem")
        timestamped = 0
        for s in chosen_cps:
            name = f"proof/{s.json.name}"
            put(name, s.json.read_bytes())
            put(signed_file(name), s.checkpoint.signed_bytes())
            put(sig_file(name), s.checkpoint.signature_bytes())
            token = authority = None
            if s.token is not None and s.authority is not None:
                token, authority = f"proof/{s.token.name}", f"proof/{s.authority.name}"
                put(token, s.token.read_bytes())
                put(authority, s.authority.read_bytes())
                timestamped += 1
            key_file = keys.get(s.checkpoint.key_id, "proof/ledger-key.pub.pem")
            checks += verifytext.checkpoint_checks(
                name, signed_file(name), sig_file(name), key_file, token, authority
            )
        text = verifytext.render_checks(checks, chosen, title=KIT_TITLE, intro=KIT_INTRO)
        put(verifytext.FILE, text.encode("utf-8"))
        put(LETTER, letter(profile, account, chosen).encode("utf-8"), sealed=False)
        folder.seal(store.signing_key())
        folder.finish(zip_to=zipped)
    except BaseException:
        folder.abandon()
        raise
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    return AppealKit(
        profile.name, out, zipped, chosen, len(originals), len(pubs), len(chosen_cps), timestamped, files
    )


def _put_keys(files: Any, put: Any) -> dict[str, str]:
    """The public keys of the ledger (the current one, and any earlier one a key rotation
    left), each under ``proof/``; {key id: its file}."""
    keys = {}
    for name, path in files:
        base = Path(name).name
        if base.startswith("ledger-key") and base.endswith(".pub.pem"):
            data = path.read_bytes()
            put(f"proof/{base}", data)
            keys[key_id(load_public(data))] = f"proof/{base}"
    return keys


def _account(
    profile: Profile,
    rows: list[dict[str, Any]],
    originals: list[dict[str, Any]],
    pubs: list[dict[str, Any]],
    stored: list[Any],
) -> dict[str, Any]:
    """The account's profile facts: who, since when, how much is on record, where it is kept."""
    first = min((e["time"] for e in originals), default=None)
    newest = stored[-1].checkpoint
    return {
        "format": "keepmark-appeal-kit",
        "version": 1,
        "keepmark": __version__,
        "profile": profile.name,
        "account": {"name": profile.account.name, "handle": profile.account.handle},
        "contact": {
            "email": profile.proof.contact_email,
            "phone": profile.proof.contact_phone,
            "address": profile.proof.contact_address,
        },
        "originals": len(originals),
        "files_recorded": len(rows),
        "first_recorded": first,
        "publications": len(pubs),
        "platforms": sorted({str(p["platform"]) for p in pubs if p.get("platform")}),
        "targets": [{"name": t.name, "type": t.type} for t in profile.targets],
        "newest_checkpoint": {"entries": newest.entries, "time": newest.time, "key_id": newest.key_id},
    }


PUB_FIELDS = ("date", "platform", "url", "caption", "sha256", "path", "copy", "recorded", "seq")
TIMELINE_FIELDS = ("time", "event", "file", "sha256", "platform", "url")
EVENTS = {
    "en": {"recorded": "first recorded", "published": "published"},
    "zh": {"recorded": "首次记录", "published": "发布"},
}


def _timeline(originals: list[dict[str, Any]], pubs: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each original's first record and each publication, oldest first (times as recorded:
    UTC; a publication's date as given)."""
    words = EVENTS[lang]
    seen: set[str] = set()
    out = []
    for e in originals:
        sha = e["data"]["sha256"]
        if sha in seen:
            continue
        seen.add(sha)
        out.append(
            {"time": e["time"], "event": words["recorded"], "file": e["data"].get("path", ""), "sha256": sha}
        )
    for p in pubs:
        out.append(
            {
                "time": p.get("date") or p.get("recorded"),
                "event": words["published"],
                "file": p.get("path") or "",
                "sha256": p.get("sha256"),
                "platform": p.get("platform"),
                "url": p.get("url"),
            }
        )
    return sorted(out, key=lambda r: str(r["time"]))


def _csv(fields: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """UTF-8 with a byte order mark, so that Excel shows Chinese names as they are."""
    buf = io.StringIO()
    buf.write(BOM)
    writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})
    return buf.getvalue()


def letter(profile: Profile, account: dict[str, Any], lang: str) -> str:
    """A short appeal letter to adapt to the platform's form, in ``lang``; the blanks are the
    creator's to fill in."""
    blank = langs.blank(lang)
    name = profile.account.name or blank
    handle = profile.account.handle or blank
    email = profile.proof.contact_email or blank
    phone = profile.proof.contact_phone or blank
    first = langs.day(account["first_recorded"], lang) if account["first_recorded"] else blank
    platforms = ", ".join(account["platforms"]) or blank
    stamped = langs.when(account["newest_checkpoint"]["time"], lang)
    if lang == "zh":
        return f"""账号申诉信（由 Keepmark 生成，请逐行核对、按平台表单修改后签名发送）

致：{blank}（平台）账号安全/申诉团队

我是账号 @{handle} 的所有者 {name}。我的账号{blank}（被盗 / 被封禁，及发生日期）。
我请求恢复对该账号的访问，并说明我是其中作品的原作者。

1. 账号与联系方式
   姓名：{name}    账号：@{handle}
   邮箱：{email}    电话：{phone}

2. 我对这些作品的所有权
   - 自 {first} 起，我在本机用 Keepmark 记录了 {account["originals"]} 件原始作品，每件都有 SHA-256
     哈希（见 inventory.csv）。
   - 这些记录由我的签名密钥签名成检查点（见 proof/ 文件夹），最新的检查点签于 {stamped}；
     带有可信时间戳的检查点证明这些记录在时间戳所示时间之前已经存在。
   - 我在以下平台发布过这些作品：{platforms}（见 publications.csv 与 timeline.csv）。
   - 任何人都可以按 VERIFY.txt 中的 openssl 命令核验本文件夹，无需安装 Keepmark。

3. 附件
   account.json、inventory.csv、publications.csv、timeline.csv、proof/、VERIFY.txt

4. 声明
   我保证以上内容真实、准确，我是上述账号的所有者及作品的权利人。

签名：{blank}
日期：{blank}
"""
    return f"""ACCOUNT APPEAL (prepared with Keepmark; check every line, adapt it to the platform's form,
then sign and send)

To: the account support / appeals team of {blank} (the platform)

I am {name}, the owner of the account @{handle}. My account was {blank} (stolen or disabled, and
when). I ask you to restore my access, and I show below that I am the author of its work.

1. The account and how to reach me
   Name: {name}    Account: @{handle}
   Email: {email}    Phone: {phone}

2. My ownership of the work
   - Since {first} I have recorded {account["originals"]} original photos and videos with
     Keepmark on my own computer, each with its SHA-256 (inventory.csv).
   - These records are signed into checkpoints by my signing key (the proof/ folder); the
     newest was signed on {stamped}. A checkpoint with a trusted timestamp shows the records
     existed by the time the timestamp states.
   - I published this work on: {platforms} (publications.csv, timeline.csv).
   - Anyone can check this folder with the openssl commands in VERIFY.txt, without Keepmark.

3. Attached
   account.json, inventory.csv, publications.csv, timeline.csv, proof/, VERIFY.txt

4. Statement
   The information above is accurate, and I am the owner of the account and of the work.

Signature: {blank}
Date: {blank}
"""
