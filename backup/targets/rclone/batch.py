"""Uploading a batch (``base.BatchUpload``): one ``rclone copy --files-from-raw`` per group of
files whose keys and sources share one folder layout, checked with one ``rclone lsjson --hash``
(or one ``hashsum --download``). Names with line breaks, and files whose names differ from their
keys, go one by one through ``put_file``. On staged remotes (WebDAV) the group goes to a
temporary folder beside its keys, is checked there, and the good files are moved into place."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from backup.targets.base import ObjectError, ObjectInfo, Progress, SourceChanged, UploadItem, check_key
from backup.targets.rclone.checks import Digest
from backup.targets.rclone.paths import info_of, join, line_break
from backup.targets.rclone.process import reason_of
from backup.targets.rclone.uploads import RcloneUploads
from inventory.atomic import TMP_SUFFIX


class _Item(NamedTuple):
    key: str
    src: Path
    sha256: str
    size: int


def put_batch(
    t: RcloneUploads, items: Sequence[UploadItem], progress: Progress | None = None
) -> dict[str, Exception | None]:
    """Upload many files with few rclone processes (see the module docstring)."""
    results: dict[str, Exception | None] = {}
    groups: dict[tuple[str, str], list[tuple[str, _Item]]] = {}
    singles: list[_Item] = []
    for key, src, sha256, size in items:
        item = _Item(check_key(key), Path(src), sha256, size)
        split = _split(item)
        if split is None:
            singles.append(item)
        else:
            prefix, root, rel = split
            groups.setdefault((prefix, root), []).append((rel, item))
    for item in singles:
        try:
            t.put_file(item.key, item.src, item.sha256, item.size, progress)
            results[item.key] = None
        except ObjectError as exc:
            results[item.key] = exc
    for (prefix, root), members in groups.items():
        results.update(_put_group(t, prefix, root, members, progress))
    return results


def _put_group(
    t: RcloneUploads, prefix: str, root: str, members: list[tuple[str, _Item]], progress: Progress | None
) -> dict[str, Exception | None]:
    results: dict[str, Exception | None] = {}
    digests: dict[str, Digest] = {}
    todo: list[tuple[str, _Item]] = []
    for rel, item in members:
        try:
            digest = t._digest_file(item.src)
        except ObjectError as exc:
            results[item.key] = exc
            continue
        if digest.hashes["sha256"] != item.sha256:
            results[item.key] = SourceChanged(
                f"{item.src}: changed since it was scanned; run again to back it up"
            )
            continue
        digests[rel] = digest
        todo.append((rel, item))
    if not todo:
        return results
    dest = t._dir(prefix)
    stage = t._dir(join(prefix, f".km-{secrets.token_hex(4)}{TMP_SUFFIX}")) if t.staged else dest
    total = sum(digests[rel].size for rel, _ in todo)
    with tempfile.TemporaryDirectory(prefix="keepmark-rclone-") as tmp:
        listing = Path(tmp) / "files"
        listing.write_bytes("".join(rel + "\n" for rel, _ in todo).encode("utf-8", "surrogateescape"))
        try:
            ran = t._transfer(
                "copy", [f"--files-from-raw={listing}", "--no-traverse"], [root, stage], progress, total
            )
            failed = {x.obj: x.msg for x in ran.logs if x.level in ("error", "critical") and x.obj}
            if ran.code != 0:
                whole = t._target_error(ran)
                if whole is not None:
                    raise whole
            if t.hash_type is None and t.download_check:
                # one download pass shows both what is there and what it holds
                downloaded = t._download_sha256([rel for rel, _ in todo], stage)
                infos = {rel: ObjectInfo(rel, digests[rel].size) for rel in downloaded}
            else:
                infos = _list_files(t, stage, listing, hashes=True)
                need = [rel for rel, _ in todo if t._needs_download(infos.get(rel))]
                downloaded = t._download_sha256(need, stage) if need else {}
            good: list[str] = []
            for rel, item in todo:
                problem = t._mismatch(infos.get(rel), digests[rel], downloaded.get(rel))
                if problem is None:
                    good.append(rel)
                    results[item.key] = None
                    continue
                if rel in infos:
                    t._remove(f"{stage}/{rel}")
                if rel in failed and rel not in infos:
                    results[item.key] = ObjectError(f"{t.name}: {item.key}: {' '.join(failed[rel].split())}")
                else:
                    results[item.key] = t._bad_copy(item.key, item.src, item.sha256, problem)
            if t.staged and good:
                sizes = {rel: digests[rel].size for rel in good}
                results.update(_commit_group(t, stage, dest, sizes, dict(todo), Path(tmp)))
        finally:
            if t.staged:
                t._run("purge", [], [stage])
    return results


def _commit_group(
    t: RcloneUploads, stage: str, dest: str, sizes: dict[str, int], items: dict[str, _Item], tmp: Path
) -> dict[str, Exception | None]:
    """Move checked staged files ({relative path: size}) to their keys, on the server."""
    listing = tmp / "good"
    listing.write_bytes("".join(rel + "\n" for rel in sizes).encode("utf-8", "surrogateescape"))
    ran = t._run("move", [f"--files-from-raw={listing}", "--no-traverse"], [stage, dest], transfer=True)
    if ran.code == 0:
        return {}
    whole = t._target_error(ran)
    if whole is not None:
        raise whole
    there = _list_files(t, dest, listing, hashes=False)
    why = reason_of(ran.logs)
    return {
        items[rel].key: ObjectError(f"{t.name}: {items[rel].key}: {why}")
        for rel, size in sizes.items()
        if rel not in there or there[rel].size != size
    }


def _list_files(t: RcloneUploads, folder: str, listing: Path, *, hashes: bool) -> dict[str, ObjectInfo]:
    flags = ["-R", "--files-only", "--no-mimetype", f"--files-from-raw={listing}"]
    if hashes and t.hash_type:
        flags += ["--hash", f"--hash-type={t.hash_type}"]
    ran = t._run("lsjson", flags, [folder])
    if ran.code in (3, 4):
        return {}
    if ran.code != 0:
        raise t._error(ran)
    return {str(item["Path"]): info_of(str(item["Path"]), item) for item in json.loads(ran.out)}


def _split(item: _Item) -> tuple[str, str, str] | None:
    """(key prefix, source root, relative path) when the key ends with the source's own path."""
    kparts = item.key.split("/")
    if line_break(item.key):
        return None
    sparts = Path(os.path.abspath(item.src)).parts
    n = 0
    while n < len(kparts) and n < len(sparts) - 1 and kparts[-1 - n] == sparts[-1 - n]:
        n += 1
    if n == 0:
        return None
    return "/".join(kparts[:-n]), str(Path(*sparts[:-n])), "/".join(kparts[-n:])
