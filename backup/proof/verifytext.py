"""``VERIFY.txt``: how to check a bundle with OpenSSL and a shell alone, in Chinese and English.

Every command is one line starting with ``$ `` (after the indentation), to be run with bash in
the bundle's folder; each prints a line saying what held and exits 0, or exits non-zero. Tools:
``openssl`` (1.1.1 or later: Ed25519 and ``pkeyutl -rawin``), ``sha256sum`` (``shasum -a 256``
on macOS), ``xxd``, ``cat`` and bash's own ``printf``, ``read`` and ``[[ ]]``.

``checks`` gives the commands of one bundle (or, through ``seal_checks``, ``checkpoint_checks``
and ``inclusion_check``, of any folder holding signed checkpoints, such as an appeal kit);
``render`` writes the file.
"""

from __future__ import annotations

from typing import Any, NamedTuple

FILE = "VERIFY.txt"
SUMS = "SHA256SUMS"
SUMS_SIG = "SHA256SUMS.sig"


class Check(NamedTuple):
    en: str  # what it shows, in English
    zh: str  # the same, in Chinese
    command: str  # one bash line, run in the folder


def seal_checks(key_file: str) -> list[Check]:
    """The folder's seal: SHA256SUMS signed by the key, then every file against it."""
    return [
        Check(
            f"{SUMS} (the SHA-256 of every file here) is signed by the creator's key {key_file}.",
            f"{SUMS}（本文件夹中每个文件的 SHA-256）由创作者的密钥 {key_file} 签名。",
            f"openssl pkeyutl -verify -pubin -inkey {key_file} -rawin -in {SUMS} -sigfile {SUMS_SIG}",
        ),
        Check(
            f"Every file has the SHA-256 listed in {SUMS} (on macOS: shasum -a 256 -c {SUMS}).",
            f"每个文件的 SHA-256 与 {SUMS} 所列一致（macOS 上用 shasum -a 256 -c {SUMS}）。",
            f"sha256sum -c {SUMS}",
        ),
    ]


def checkpoint_checks(
    file: str, signed: str, sig: str, key_file: str, token: str | None, authority: str | None
) -> list[Check]:
    """A checkpoint ``file``: its Ed25519 signature over the exact bytes ``signed``, that the file
    is those bytes with that signature, and its RFC 3161 timestamp token when it has one."""
    n = _number(file)
    checks = [
        Check(
            f"Checkpoint {n} ({signed}) is signed by the key {key_file} (Ed25519).",
            f"检查点 {n}（{signed}）由密钥 {key_file} 签名（Ed25519）。",
            f"openssl pkeyutl -verify -pubin -inkey {key_file} -rawin -in {signed} -sigfile {sig}",
        ),
        Check(
            f"{file} (what the timestamp covers) is exactly {signed} with the signature {sig} added.",
            f"{file}（时间戳所覆盖的文件）正是 {signed} 加上签名 {sig}。",
            f"s=$(cat {signed}) && g=$(openssl base64 -A -in {sig}) && "
            f'[ "$(cat {file})" = "${{s/,\\"time\\":/,\\"signature\\":\\"$g\\",\\"time\\":}}" ] && '
            f'echo "{file}: the signed checkpoint: OK"',
        ),
    ]
    if token is not None and authority is not None:
        checks.append(
            Check(
                f"The trusted timestamp {token} (RFC 3161) covers {file}, issued by the authority "
                f"whose certificate is {authority}; it prints the time as 'Time stamp' with "
                f"openssl ts -reply -in {token} -text.",
                f"可信时间戳 {token}（RFC 3161）覆盖 {file}，由证书为 {authority} 的时间戳机构签发；"
                f"时间可用 openssl ts -reply -in {token} -text 查看（Time stamp 一行）。",
                f"openssl ts -verify -data {file} -in {token} -CAfile {authority}",
            )
        )
    return checks


def inclusion_check(seq: int, entry: str, path: str, signed: str, checkpoint: int) -> Check:
    """Entry ``seq`` (its exact hashed text in ``entry``) is under the Merkle root that
    checkpoint ``checkpoint`` signed (``signed``), by the audit path in ``path``."""
    step = (
        'if [ "$side" = L ]; then p=$s${h%% *}; else p=${h%% *}$s; fi; '
        "h=$({ printf '\\001'; printf %s \"$p\" | xxd -r -p; } | openssl dgst -sha256 -r)"
    )
    command = (
        f"h=$(openssl dgst -sha256 -r < {entry}) && "
        "h=$({ printf '\\000'; printf %s \"${h%% *}\" | xxd -r -p; } | openssl dgst -sha256 -r) && "
        f"while read -r side s; do {step}; done < {path} && "
        f'[[ $(cat {signed}) == *"\\"root\\":\\"${{h%% *}}\\""* ]] && '
        f'echo "entry {seq} is in checkpoint {checkpoint}: OK"'
    )
    return Check(
        f"Ledger entry {seq} ({entry}: its SHA-256 is the entry's hash) is in the ledger that "
        f"checkpoint {checkpoint} signed: its audit path ({path}) leads to the checkpoint's Merkle root.",
        f"账本记录 {seq}（{entry}，其 SHA-256 即该记录的哈希）包含在检查点 {checkpoint} 所签名的账本中："
        f"沿审计路径（{path}）计算可得到该检查点的默克尔根（Merkle root）。",
        command,
    )


def chain_check(files: list[str], signed: str, checkpoint: int) -> Check:
    """Version 1 checkpoints (no Merkle root): the entries ``files`` (in order, the last being
    entry ``checkpoint``) chain, each naming the previous one's hash, to the signed head."""
    folder = files[0].rsplit("/", 1)[0]
    last = files[-1]
    command = (
        f'h=; ok=1; for f in {folder}/entry-*.txt; do read -r p < "$f"; '
        'if [ -n "$h" ] && [ "$p" != "$h" ]; then ok=0; break; fi; '
        'h=$(openssl dgst -sha256 -r < "$f"); h=${h%% *}; '
        f'[ "$f" = {last} ] && break; done; '
        f'[ $ok = 1 ] && [ "$f" = {last} ] && [[ $(cat {signed}) == *"\\"head\\":\\"$h\\""* ]] && '
        f'echo "entries {_number(files[0])}-{checkpoint} chain to checkpoint {checkpoint}: OK"'
    )
    return Check(
        f"The ledger entries in {folder}/ chain (each starts with the previous one's SHA-256) up to "
        f"entry {checkpoint}, whose hash is the head checkpoint {checkpoint} signed (a version 1 "
        "checkpoint, signed before checkpoints carried a Merkle root).",
        f"{folder}/ 中的账本记录逐条相连（每条以前一条的 SHA-256 开头），直到记录 {checkpoint}，"
        f"其哈希即检查点 {checkpoint} 所签名的 head（第 1 版检查点，签于检查点带默克尔根之前）。",
        command,
    )


def _number(file: str) -> int:
    digits = "".join(c for c in file.rsplit("/", 1)[-1] if c.isdigit())
    return int(digits) if digits else 0


def key_files(doc: dict[str, Any]) -> dict[str, str]:
    """{key id: the bundle file of that public key}: the current key and earlier ones."""
    from inventory.ledger.checkpoint import key_id, load_public

    files = {}
    if doc.get("public_key"):
        files[key_id(load_public(str(doc["public_key"]).encode("ascii")))] = "proof/ledger-key.pub.pem"
    for pem in doc.get("earlier_keys", []):
        kid = key_id(load_public(str(pem).encode("ascii")))
        files[kid] = f"proof/ledger-key.{kid}.pub.pem"
    return files


def checks(doc: dict[str, Any]) -> list[Check]:
    """Every check of an evidence bundle (version 2), in the order to run them."""
    from backup.proof import evidence as ev

    keys = key_files(doc)
    out = seal_checks("proof/ledger-key.pub.pem")
    for item in doc["checkpoints"]:
        cp = item["checkpoint"]
        stamp = item.get("timestamp")
        token = stamp.get("token_file") if isinstance(stamp, dict) else None
        authority = stamp.get("authority_file") if isinstance(stamp, dict) else None
        out += checkpoint_checks(
            item["file"],
            ev.signed_file(item["file"]),
            ev.sig_file(item["file"]),
            keys.get(cp["key_id"], "proof/ledger-key.pub.pem"),
            token,
            authority,
        )
    files = {int(item["checkpoint"]["entries"]): item["file"] for item in doc["checkpoints"]}
    for proof in doc["ledger"].get("proofs", []):
        n = int(proof["checkpoint"])
        out.append(
            inclusion_check(
                int(proof["entry"]),
                ev.entry_file(int(proof["entry"])),
                ev.path_file(int(proof["entry"]), n),
                ev.signed_file(files[n]),
                n,
            )
        )
    chain = doc["ledger"].get("chain") or []
    for item in doc["checkpoints"]:
        cp = item["checkpoint"]
        if "root" in cp or not chain:
            continue
        n = int(cp["entries"])
        names = [ev.entry_file(int(e["seq"]), ev.CHAIN) for e in chain if int(e["seq"]) <= n]
        if names:
            out.append(chain_check(names, ev.signed_file(item["file"]), n))
    return out


INTRO = {
    "zh": """\
本文件说明如何不安装 Keepmark、只用 OpenSSL 和命令行核验本证据包。
在本文件夹中用 bash 逐条运行下面以 “$ ” 开头的命令（不含 “$ ”）。每条命令在成立时打印一行
（“OK”、“Verified OK”、“Signature Verified Successfully” 或 “Verification: OK”）并以 0 退出；
任何一个字节被改动，相关命令就会失败（非 0 退出）。需要：openssl 1.1.1 或更高版本、sha256sum
（macOS 上为 shasum -a 256）、xxd、cat，以及 bash。

这些命令证明：
  - 本文件夹中的每个文件都与创作者密钥签名的 SHA256SUMS 一致；
  - 每个检查点由创作者的 Ed25519 密钥签名，并（如有）由可信时间戳机构按 RFC 3161 加盖时间戳；
    时间戳机构证书的指纹可与该机构公布的指纹比对：openssl x509 -in <证书> -noout -fingerprint -sha256；
  - 原件的账本记录（proof/entries/ 中的文本，含原件的 SHA-256 与首次记录时间）包含在检查点所签名的
    账本中（默克尔审计路径，RFC 6962 形式：叶 = SHA-256(0x00 || 记录哈希)，
    节点 = SHA-256(0x01 || 左 || 右)）。
    证据包不包含创作者其他文件的任何记录。
""",
    "en": """\
This file tells how to check this evidence bundle without Keepmark, with OpenSSL and a shell alone.
Run each command below that starts with "$ " (without the "$ ") with bash in this folder. Each
prints a line when it holds ("OK", "Verified OK", "Signature Verified Successfully" or
"Verification: OK") and exits 0; if any byte was changed, the command concerned fails (non-zero
exit). Needs: openssl 1.1.1 or later, sha256sum (shasum -a 256 on macOS), xxd, cat, and bash.

The commands show that:
  - every file in this folder is as listed in SHA256SUMS, which the creator's key signed;
  - each checkpoint is signed by the creator's Ed25519 key and, when it has one, timestamped by a
    trusted timestamp authority (RFC 3161); compare the authority certificate's fingerprint with
    the one it publishes: openssl x509 -in <certificate> -noout -fingerprint -sha256;
  - the original's ledger entries (the text files in proof/entries/, with the original's SHA-256
    and when it was first recorded) are in the ledger a checkpoint signed (a Merkle audit path,
    as in RFC 6962: leaf = SHA-256(0x00 || entry hash), node = SHA-256(0x01 || left || right)).
    The bundle holds no entry about any other file of the creator.
""",
}

TITLE = {
    "zh": "Keepmark 证据包：仅用 OpenSSL 核验",
    "en": "Keepmark evidence bundle: checking it with OpenSSL alone",
}
COMMANDS = {
    "zh": "核验命令（中文说明在前，英文在后）",
    "en": "The commands (each explained in English, then in Chinese)",
}


def render(doc: dict[str, Any], lang: str = "en") -> str:
    """VERIFY.txt of an evidence bundle: both languages, ``lang`` first."""
    return render_checks(checks(doc), lang)


def render_checks(
    items: list[Check],
    lang: str = "en",
    *,
    title: dict[str, str] | None = None,
    intro: dict[str, str] | None = None,
) -> str:
    """VERIFY.txt for any list of checks: the title and the two introductions (``lang`` first;
    an evidence bundle's unless others are given), then each check's explanation in both
    languages and its command."""
    title, intro = title or TITLE, intro or INTRO
    order = ("zh", "en") if lang == "zh" else ("en", "zh")
    lines = [f"{title[order[0]]}\n{title[order[1]]}\n", "=" * 72 + "\n"]
    for lang_ in order:
        lines.append(intro[lang_] + "\n")
    lines.append("=" * 72 + "\n" + COMMANDS[order[0]] + "\n\n")
    for i, c in enumerate(items, 1):
        first, second = (c.zh, c.en) if order[0] == "zh" else (c.en, c.zh)
        lines.append(f"[{i}] {first}\n    {second}\n\n    $ {c.command}\n\n")
    return "".join(lines)


def commands(text: str) -> list[str]:
    """The commands of a VERIFY.txt, in order (its lines that start with ``$ ``)."""
    return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("$ ")]
