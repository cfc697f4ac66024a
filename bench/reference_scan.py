"""The reference for the first-scan benchmark: the least a scan must do per photo, on two
processes. For each JPEG: read it, SHA-256 it, decode it at reduced size with ``Image.draft``,
and compute one imagehash pHash. Prints how many files it did.

    python bench/reference_scan.py FOLDER
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from multiprocessing import Pool


def one(path: str) -> tuple[str, str]:
    import imagehash
    from PIL import Image

    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as im:
        im.draft("L", (64, 64))
        im.load()
        return digest, str(imagehash.phash(im))


def main() -> int:
    folder = sys.argv[1]
    files = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.lower().endswith(".jpg"))
    with Pool(2) as pool:
        results = pool.map(one, files, chunksize=1)
    print(len(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
