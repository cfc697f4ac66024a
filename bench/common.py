"""Shared helpers for the benchmarks: interleaved runs, medians, and the ratio line.

These machines are shared and noisy, so every figure is a ratio against a reference tool
measured in the same run, with the runs interleaved (ours, reference, ours, ...) and the
median of each taken.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# The profiles the benchmarks make name no public timestamp authority (`backup init` would pick
# one): a figure measures Keepmark, not an authority's answer over the network.
os.environ.setdefault("KEEPMARK_TSA_AUTHORITIES", "")

BACKUP = shutil.which(
    "backup", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
)


def backup_cmd() -> list[str]:
    """The installed ``backup`` command next to this Python, run as a user runs it: with its
    modules byte-compiled (as ``pip install`` leaves them) and without PYTHONDONTWRITEBYTECODE,
    which some shells set and which would make every run recompile Keepmark from source."""
    if BACKUP is None:
        sys.exit("bench: the `backup` command is not installed in this environment (pip install .)")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    root = Path(__file__).resolve().parent.parent
    for package in ("backup", "inventory", "watermark"):
        compileall.compile_dir(str(root / package), quiet=1)
    return [BACKUP]


def timed(
    cmd: Sequence[str], env: dict[str, str] | None = None, setup: Callable[[], None] | None = None
) -> float:
    if setup is not None:
        setup()
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def fresh_profile(
    cli: list[str], env: dict[str, str], name: str, source: Path, out: Path
) -> Callable[[], None]:
    """A setup that gives the next run an empty Keepmark home (``KEEPMARK_HOME`` in ``env``) with
    one profile ``name`` reading ``source`` and stamping into ``out``: every file is new again."""

    def setup() -> None:
        shutil.rmtree(env["KEEPMARK_HOME"], ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(
            [*cli, "init", name, "--account", "Lily Chen", "--handle", "lily.shoots",
             "--source", str(source), "--output", str(out)],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    return setup


def interleave(
    runs: int,
    ours: Callable[[], float],
    reference: Callable[[], float],
) -> tuple[list[float], list[float]]:
    a: list[float] = []
    b: list[float] = []
    for i in range(runs):
        if i % 2 == 0:
            a.append(ours())
            b.append(reference())
        else:
            b.append(reference())
            a.append(ours())
    return a, b


def report(name: str, ours: list[float], ref: list[float], ref_name: str, limit: float) -> bool:
    mo, mr = statistics.median(ours), statistics.median(ref)
    ratio = mo / mr
    verdict = "OK" if ratio <= limit else "OVER"
    print(
        f"{name}: keepmark median {mo:.3f} s, {ref_name} median {mr:.3f} s "
        f"-> ratio {ratio:.2f}x (target <= {limit:.2f}x) {verdict}  [{len(ours)} runs each]"
    )
    return ratio <= limit


def require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"bench: `{tool}` is needed for this benchmark ({hint})")
    return path


def init_profile(cli: list[str], env: dict[str, str], source: Path, target: Path | None = None) -> None:
    """``backup init bench`` over ``source`` (and a local ``target``), quietly."""
    cmd = [*cli, "init", "bench", "--account", "Bench", "--handle", "bench", "--source", str(source)]
    if target is not None:
        cmd += ["--target", str(target)]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
