"""``notice.txt``: a copyright infringement notice with the elements a DMCA-style complaint
requires (17 U.S.C. 512(c)(3) and the forms of most platforms), pre-filled from the evidence and
the profile, for the creator to adapt to each platform's form, sign and send.

The notice is a template made from the sealed evidence, outside the seal: ``evidence.json`` does
not list it among the files it seals, so filling in its ``[fill in]`` fields and signing it never
breaks ``backup prove --verify`` (which says whether it was edited since it was written)."""

from __future__ import annotations

from typing import Any

BLANK = "[fill in]"
FILE = "notice.txt"


def render(ev: dict[str, Any], contact: dict[str, str]) -> str:
    o, s, acc = ev["original"], ev["suspect"], ev["account"]
    pubs = o.get("publications", [])
    published = (
        "\n".join(f"     - {p['platform']}, {p['date']}: {p['url']}" for p in pubs)
        if pubs
        else f"     - {BLANK} (where you first published it, if you did)"
    )
    stamp = next((cp["timestamp"] for cp in ev["checkpoints"] if isinstance(cp.get("timestamp"), dict)), None)
    sealed = (
        f"     A trusted timestamp from {stamp['authority']} shows this record existed on {stamp['time']}.\n"
        if stamp
        else ""
    )
    taken = f", taken {o['capture_time']}" if o.get("capture_time") else ""
    url = s.get("url") or f"{BLANK} (the web address of the infringing post)"
    return f"""COPYRIGHT INFRINGEMENT NOTICE
(prepared with Keepmark on {ev["created"][:10]}; review every line, adapt it to the platform's
form, then sign)

To: the designated copyright agent of {BLANK} (the platform)

1. The copyrighted work

   I am the owner of the exclusive rights in the following original {o["kind"]} work:
     - {o["paths"][0].rsplit("/", 1)[-1] if o["paths"] else o["sha256"]}{taken}
     - SHA-256 of the original file: {o["sha256"]}
     - first recorded in my content inventory on {o["first_seen"]}
   It was published by me ({acc["name"]}, @{acc["handle"]}) at:
{published}
   My tamper-evident record of it, with its hashes and signatures, is attached (evidence.json,
   report.html).
{sealed}
2. The infringing material

   The material at the following location copies this work without my authorisation:
     - {url}
   It matches my original: {ev["match"]["method"]} match, confidence {float(ev["match"]["confidence"]):.0%}
   (details in the attached report). I request that it be removed or access to it be disabled.

3. My contact information

     Name:    {acc["name"]}
     Email:   {contact.get("email") or BLANK}
     Phone:   {contact.get("phone") or BLANK}
     Address: {contact.get("address") or BLANK}

4. Statements

   I have a good faith belief that use of the material in the manner complained of is not
   authorized by the copyright owner, its agent, or the law.

   The information in this notice is accurate, and under penalty of perjury, I am the owner, or
   an agent authorized to act on behalf of the owner, of an exclusive right that is allegedly
   infringed.

5. Signature

   Signed: ______________________________   ({acc["name"]})
   Date:   ______________________________
"""
