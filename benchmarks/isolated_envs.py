"""Benchmark: the image environments of `kfops run --isolated`, and isolated vs plain runs.

Measured in one run, on a fresh cache directory (nothing of `.kfops/images` is reused):

* build cold: every image's environment built (`uv venv` + `uv pip install --require-hashes
  --no-deps -r requirements.txt` + copying its files). uv's own download cache is warm
  (`./scripts/bootstrap` fills it with the same locked wheels), as in CI after bootstrap.
* build warm: the same call again (everything cached per content hash: a lookup).
* runs: `kfops run training` plain, then `--isolated` right after the cold build (each
  image's interpreter compiles the bytecode of what it imports on first use), then
  `--isolated` again (warm); each in a subprocess, as a user runs it.

Prints seconds and the ratios isolated/plain. This machine is noisy: compare ratios
from one run, not seconds across runs.

Usage: ``.venv/bin/python benchmarks/isolated_envs.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from components.images import component_names  # noqa: E402
from kfops import isolated  # noqa: E402


def timed_run(home: Path, envs: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kfops", "run", "training", *extra],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "KFOPS_HOME": str(home), isolated.ENVS_ENV: str(envs)},
    )
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(
        prefix="kfops-bench-", dir=REPO / ".kfops" if (REPO / ".kfops").is_dir() else None
    ) as scratch:
        envs = Path(scratch) / "images"
        names = component_names()
        started = time.perf_counter()
        per_image = {}
        for name in names:
            t = time.perf_counter()
            isolated.ensure_env(name, envs)
            per_image[name] = time.perf_counter() - t
        cold = time.perf_counter() - started
        started = time.perf_counter()
        for name in names:
            assert not isolated.ensure_env(name, envs)[1]
        warm = time.perf_counter() - started
        size = subprocess.run(["du", "-sh", str(envs)], capture_output=True, text=True).stdout.split()[0]

        plain = timed_run(Path(scratch) / "plain", envs)
        first = timed_run(Path(scratch) / "first", envs, "--isolated")
        second = timed_run(Path(scratch) / "second", envs, "--isolated")

    print(f"image environments ({len(names)} images, uv download cache warm), on disk {size} (hard links)")
    print(
        f"  build cold   {cold:6.2f} s  ({cold / len(names):.2f} s per image; slowest "
        f"{max(per_image, key=per_image.__getitem__)} {max(per_image.values()):.2f} s)"
    )
    print(f"  build warm   {warm:6.3f} s  (cache lookups; cold/warm = {cold / warm:,.0f}x)")
    print("kfops run training (8 tasks, bundled data)")
    print(f"  plain                         {plain:6.2f} s  1.00")
    print(
        f"  --isolated, first use         {first:6.2f} s  {first / plain:.2f}x plain "
        "(bytecode compiled on import)"
    )
    print(f"  --isolated, warm              {second:6.2f} s  {second / plain:.2f}x plain")


if __name__ == "__main__":
    main()
