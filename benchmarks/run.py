"""The whole benchmark suite: verification, shared state, cold remote start.

Run by hand from the repository root, never as a test::

    pip install -e '.[all]' PyJWT authlib joserfc python-jose jwcrypto
    python3 benchmarks/run.py                  # every table
    python3 benchmarks/run.py --rounds 31 --memory

Each section is also a script of its own: ``verify.py``, ``state.py``,
``cold_start.py``. ``--frameworks`` adds ``frameworks.py`` (a whole request
through Django REST framework and Flask against simplejwt and
flask-jwt-extended, with the test client and under gunicorn with ``wrk``;
several minutes)::

    python3 benchmarks/run.py --frameworks
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cold_start, frameworks, state, verify
from benchmarks._common import CASES, environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=15, help="cold-start processes")
    parser.add_argument("--memory", action="store_true", help="also the 100,000-token memory run")
    parser.add_argument(
        "--frameworks", action="store_true", help="also frameworks.py (test client and gunicorn)"
    )
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
    if args.frameworks:
        print(frameworks.versions())
        frameworks.client_report(args.rounds, 200)
        frameworks.gunicorn_report(5, 3.0)


if __name__ == "__main__":
    main()
