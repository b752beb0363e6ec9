"""python -m samples.feeds --out DIR [--seed N] [--products N]: write the sample distributor feeds."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from catalog.feeds import FEEDS_FILE
from samples.feeds import write_sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.feeds", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the feeds into")
    parser.add_argument("--seed", type=int, default=42, help="same seed, same bytes")
    parser.add_argument(
        "--products", type=int, default=None, help="distinct products (default: the full sample)"
    )
    parser.add_argument("--feeds-config", type=Path, default=FEEDS_FILE, help="layouts to write")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = write_sample(args.out, seed=args.seed, products=args.products, feeds_config=args.feeds_config)
    listings = sum(sum(s.files.values()) for s in manifest.distributors.values())
    print(
        f"{manifest.products} products, {listings} listings ({manifest.defects} with a planted defect) "
        f"from {len(manifest.distributors)} distributors written to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
