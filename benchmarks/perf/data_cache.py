"""Parse versus cached load of an NT3-size CSV (1,400 rows x 60,484 columns).

    python benchmarks/perf/data_cache.py [--rows 1400] [--columns 60484] [--folder /tmp/candle_perf]

Writes the table once (kept for later runs), then times ``candle_core.data.tabular.read_csv``
on a cold cache (pandas parse + writing the .npy) and on a warm one, and prints the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from candle_core.data.tabular import read_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1400)
    parser.add_argument("--columns", type=int, default=60484)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/candle_perf"))
    args = parser.parse_args()
    path = args.folder / f"table_{args.rows}x{args.columns}.csv"
    if not path.exists():
        args.folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        with path.open("w") as out:
            for _ in range(args.rows):
                row = np.exp(rng.normal(2, 1, args.columns)).astype(np.float32)
                row[0] = rng.integers(0, 2)
                out.write(",".join(f"{v:.6g}" for v in row) + "\n")
    shutil.rmtree(path.parent / ".parsed", ignore_errors=True)
    start = time.perf_counter()
    table = read_csv(path)
    parse = time.perf_counter() - start
    start = time.perf_counter()
    read_csv(path)
    cached = time.perf_counter() - start
    size = path.stat().st_size / 1e6
    print(f"{path.name}: {size:.0f} MB CSV, table {table.shape}")
    print(f"  first load (parse + cache): {parse:6.2f} s")
    print(f"  second load (cached .npy):  {cached:6.2f} s")
    print(f"  ratio: {parse / cached:.0f}x")


if __name__ == "__main__":
    main()
