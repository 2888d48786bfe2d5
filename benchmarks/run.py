"""The whole benchmark suite: verification, shared state, cold remote start.

Run by hand from the repository root, never as a test::

    pip install -e '.[all]' PyJWT authlib joserfc python-jose jwcrypto
    python3 benchmarks/run.py                  # every table
    python3 benchmarks/run.py --rounds 31 --memory

Each section is also a script of its own: ``verify.py``, ``state.py``,
``cold_start.py``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cold_start, state, verify
from benchmarks._common import CASES, environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=15, help="cold-start processes")
    parser.add_argument("--memory", action="store_true", help="also the 100,000-token memory run")
    args = parser.parse_args()
    # Peers announce their own deprecations; they are not what is measured.
    warnings.simplefilter("ignore")
    print(environment())
    for name in CASES:
        verify.report_case(name, args.rounds)
    if args.memory:
        verify.memory_report()
    state.report(args.rounds)
    cold_start.report(args.runs)


if __name__ == "__main__":
    main()
