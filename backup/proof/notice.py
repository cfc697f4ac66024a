"""``notice.txt``: a copyright infringement notice pre-filled from the evidence and the profile,
for the creator to adapt to a platform's form, sign and send. In English or in Simplified
Chinese (``lang``):

- ``en``: the elements of a DMCA notice (17 U.S.C. 512(c)(3), which most platforms' forms
  follow), then what the Instagram, YouTube and TikTok copyright forms ask and where each fact
  is in the notice;
- ``zh``: a complaint shaped for Xiaohongshu's infringement complaint (侵权投诉), in the order
  its form asks: the rights holder and contact, the work and its proof of ownership (the
  original's SHA-256, when it was first recorded, the trusted timestamp and who issued it, the
  publication records), the infringing links, the two statements, the signature.

What the profile does not say is left as a blank (``[fill in]``, ``[待填写]``) for the creator.

The notice is a template made from the sealed evidence, outside the seal: ``evidence.json`` does
not list it among the files it seals, so filling in its blanks and signing it never breaks
``backup prove --verify`` (which says whether it was edited since it was written)."""

from __future__ import annotations

from typing import Any

from backup.proof import lang as L

BLANK = L.BLANKS["en"]
FILE = "notice.txt"
LINE = "______________________________"  # where the creator signs and dates


def render(ev: dict[str, Any], contact: dict[str, str], lang: str = "en") -> str:
    """The notice in ``lang`` ("en" or "zh"). ``contact``: ``email``, ``phone``, ``address``
    (``[proof]`` of the profile) and, when known, ``name``: the creator's legal name."""
    return _chinese(ev, contact) if lang == "zh" else _english(ev, contact)


def _english(ev: dict[str, Any], contact: dict[str, str]) -> str:
    o, s, acc = ev["original"], ev["suspect"], ev["account"]
    pubs = o.get("publications", [])
    published = (
        "\n".join(f"     - {L.publication(p, 'en')}" for p in pubs)
        if pubs
        else f"     - {BLANK} (where you first published it, if you did)"
    )
    stamp = L.first_stamp(ev)
    sealed = (
        f"     - {L.trusted_timestamp(stamp, 'en')}\n"
        "       (an independent authority's proof that this record existed at that time)\n"
        if stamp
        else "     - no trusted timestamp: the record's times come from my own computer, signed with my key\n"
    )
    taken = f", taken {L.when(o['capture_time'], 'en')}" if o.get("capture_time") else ""
    url = s.get("url") or f"{BLANK} (the web address of the infringing post)"
    legal = contact.get("name") or f"{BLANK} (as on your ID; the account is {acc['name']}, @{acc['handle']})"
    return f"""COPYRIGHT INFRINGEMENT NOTICE
(prepared with Keepmark on {L.day(ev["created"], "en")}; review every line, adapt it to the platform's
form, then sign)

To: the designated copyright agent of {BLANK} (the platform)

This notice gives each element of a notification of claimed infringement under 17 U.S.C.
512(c)(3); section 6 shows where each fact a platform's form asks for is found in it.

1. The copyrighted work

   I am the owner of the exclusive rights in the following original {L.kind(o["kind"], "en")}:
     - {L.file_name(o)}{taken}
     - SHA-256 of the original file: {o["sha256"]}
     - first recorded in my content inventory on {L.evidence_time(o["first_seen"], "en")}
{sealed}   It was published by me ({acc["name"]}, @{acc["handle"]}) at:
{published}
   My tamper-evident record of it, with its hashes and signatures, is attached (evidence.json,
   report.html).

2. The infringing material

   The material at the following location copies this work without my authorisation:
     - {url}
   (List any other link to a copy of the work on the same platform here, one per line.)
   It matches my original: {L.method(ev["match"], "en")}; {L.score(ev["match"], "en")}
   (details in the attached report). I request that it be removed or access to it be disabled.

3. My contact information

     Legal name: {legal}
     Email:      {contact.get("email") or BLANK}
     Phone:      {contact.get("phone") or BLANK}
     Address:    {contact.get("address") or BLANK}

4. Statements

   I have a good faith belief that use of the material in the manner complained of is not
   authorized by the copyright owner, its agent, or the law.

   The information in this notice is accurate, and under penalty of perjury, I am the owner, or
   an agent authorized to act on behalf of the owner, of an exclusive right that is allegedly
   infringed.

5. Signature

   Signed: {LINE}   ({acc["name"]})
   Date:   {LINE}
   (On a web form, typing your full legal name is your electronic signature.)

6. What the platforms' copyright forms ask, and where it is in this notice

   Instagram, YouTube and TikTok take copyright complaints through web forms rather than
   letters. Forms change: answer what the form in front of you asks, copying from this notice.

{_forms()}"""


# What each platform's copyright form asks (in our words; forms change), and the section of the
# English notice that holds it.
FORMS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Instagram (the copyright report form of its Help Center)",
        (
            ("your full name, postal address, phone number and email", "section 3"),
            ("whether you are the rights owner or report for them", "sections 1 and 4"),
            ("the links to the content you report", "section 2"),
            ("a description of your work, and where you published it", "section 1"),
            ("the good-faith and accuracy (penalty of perjury) statements", "section 4"),
            ("your electronic signature: your full name", "section 5"),
        ),
    ),
    (
        "YouTube (the copyright removal request)",
        (
            ("the copyright owner's name and your full legal name", "sections 1 and 3"),
            ("your postal address, phone number and email", "section 3"),
            ("the address (URL) of each video you report", "section 2"),
            ("the kind of work and a description of it", "section 1"),
            ("the good-faith and accuracy (penalty of perjury) statements", "section 4"),
            ("your signature: your full legal name, typed", "section 5"),
        ),
    ),
    (
        "TikTok (the copyright infringement report form)",
        (
            ("your full name, and the copyright owner's name", "sections 1 and 3"),
            ("your relationship to the owner (owner or agent)", "section 4"),
            ("your email, phone number and postal address", "section 3"),
            ("a description of the work, and a link to it where published", "section 1"),
            ("the links to the content you report", "section 2"),
            ("the good-faith and accuracy (penalty of perjury) statements", "section 4"),
            ("your signature: your full name", "section 5"),
        ),
    ),
)


def _forms() -> str:
    width = max(len(ask) for _, rows in FORMS for ask, _ in rows) + 4
    return "\n".join(
        f"   {platform}:\n"
        + "".join(f"     - {ask} {'.' * (width - len(ask))} {where}\n" for ask, where in rows)
        for platform, rows in FORMS
    )


def _chinese(ev: dict[str, Any], contact: dict[str, str]) -> str:
    blank = L.BLANKS["zh"]
    o, s, acc = ev["original"], ev["suspect"], ev["account"]
    pubs = o.get("publications", [])
    published = (
        "\n".join(f"      - {L.publication(p, 'zh')}" for p in pubs)
        if pubs
        else f"      - {blank}（首次发布的平台、日期和链接；如未发布过，删去此行）"
    )
    stamp = L.first_stamp(ev)
    sealed = (
        f"{L.trusted_timestamp(stamp, 'zh')}。时间戳由独立的签发机构出具，证明该登记记录不晚于此时间已存在。"
        if stamp
        else "无。登记记录的时间取自权利人自己的电脑，并由权利人的密钥签名。"
    )
    facts = [L.kind(o["kind"], "zh")]
    if o.get("capture_time"):
        facts.append(f"拍摄时间 {L.when(o['capture_time'], 'zh')}")
    camera = " ".join((o.get("camera") or {}).values())
    if camera:
        facts.append(f"拍摄设备 {camera}")
    source = "（拍摄时间和设备取自文件元数据）" if o.get("capture_time") or camera else ""
    signed = ""
    if ev["checkpoints"]:
        cp = ev["checkpoints"][0]["checkpoint"]
        signed = (
            f"    签名检查点：包含 {L.entries(int(cp['entries']), 'zh')}，"
            f"签名时间 {L.evidence_time(cp['time'], 'zh')}，签名密钥 {cp['key_id']}\n"
        )
    recorded = f"（登记于权利人的作品库，账本第 {ev['ledger']['first']} 条记录）"
    url = s.get("url") or f"{blank}（侵权笔记的链接）"
    name = contact.get("name") or f"{blank}（与身份证件一致；账号名称：{acc['name']}，@{acc['handle']}）"
    m = ev["match"]
    return f"""侵权投诉通知书

（由 Keepmark 于 {L.day(ev["created"], "zh")}根据证据包生成。请逐条核对，按小红书侵权投诉页面的栏目
填写或上传，签名后提交。如向其他平台投诉，替换平台名称即可。）

致：小红书平台

依据《中华人民共和国民法典》第一千一百九十五条和《信息网络传播权保护条例》第十四条，本人就下列
侵权内容向贵平台发出通知，请求删除该内容或断开其链接。

一、权利人信息

    权利人姓名（名称）：{name}
    身份证明：{blank}（个人为身份证件，机构为营业执照，作为附件上传）
    联系电话：{contact.get("phone") or blank}
    电子邮箱：{contact.get("email") or blank}
    联系地址：{contact.get("address") or blank}
    （如由代理人投诉，另附权利人签署的授权委托书及代理人的身份证明。）

二、作品及权属证明

    作品：{L.file_name(o)}，{"，".join(facts)}{source}
    原件 SHA-256：{o["sha256"]}
    首次登记时间：{L.evidence_time(o["first_seen"], "zh")}{recorded}
{signed}    可信时间戳：{sealed}
    发布记录（权利人 {acc["name"]}，@{acc["handle"]}）：
{published}
    附件：evidence.json（全部事实、账本记录、签名和时间戳凭证）、report.html（原件与侵权内容的对比、
    时间线和核验方法）及 proof/ 文件夹。以上材料可离线核验，任何一个字符被改动都会核验失败。
    （如有著作权登记证书、原始文件或创作过程材料，可一并上传。）

三、侵权内容

    侵权链接：
      - {url}
    （如有多条侵权笔记，请逐条列出链接。）
    侵权说明：上述链接中的内容未经许可使用了本作品。经比对，疑似侵权文件（SHA-256：{s["sha256"]}）
    {L.method(m, "zh")}；{L.score(m, "zh")}（详见 report.html）。
    处理请求：请删除上述侵权内容或断开其链接。

四、声明

    1. 本人善意地相信，上述链接中的内容对本作品的使用既未获得著作权人或其代理人的许可，也没有
       法律依据。
    2. 本人保证本通知及所附材料的内容真实、准确，本人是上述作品的著作权人（或经著作权人授权、
       代其行事的代理人）。如有不实，本人愿意承担由此产生的法律责任。

五、签名

    权利人（签名）：{LINE}（{acc["name"]}）
    日期：{LINE}
"""
