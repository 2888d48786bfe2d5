"""Per-request cost of the Django and Flask adapters over the core verifier.

Run by hand from the repository root (``PYTHONPATH=$PWD python3
benchmarks/adapter_overhead.py``); never part of the test suite. For each
framework, three things are timed in interleaved rounds, with the test
client and one RS256 token:

* ``core``: ``Verifier.verify(token)`` alone;
* ``guarded``: a request with the token to a view behind jwt-guard;
* ``plain``: the same request to the same view without jwt-guard.

The adapter's overhead is ``guarded - plain - core``: what the adapter
adds on top of verifying (finding the token, CSRF decision, request.auth,
signals, the user). Medians of per-round means, and the median of the
per-round overheads, in microseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.factories import AUDIENCE, ISSUER, NOW, KeyRing, claims, public_pem, sign

_KEYS = KeyRing()
_PEM = public_pem(_KEYS.rsa).decode()
_TOKEN = sign({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}, claims(), _KEYS.rsa)
_HEADERS = {"Authorization": f"Bearer {_TOKEN}"}


def _clock() -> float:
    return NOW


#: Wall time; ``--cpu`` switches to this process's CPU time, which other
#: processes on a shared machine do not inflate.
_CLOCK: Callable[[], float] = time.perf_counter


def _time(call: Callable[[], object], number: int) -> float:
    start = _CLOCK()
    for _ in range(number):
        call()
    return (_CLOCK() - start) / number * 1e6


def _rounds(
    cases: dict[str, Callable[[], object]], rounds: int, number: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, call in cases.items():
            samples[name].append(_time(call, number))
    return samples


def django_cases() -> dict[str, Callable[[], object]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")
    import django
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import Client, override_settings
    from django.urls import path

    django.setup()

    def view(request: object) -> HttpResponse:
        return HttpResponse("ok")

    urls = type(sys)("bench_urls")
    urls.urlpatterns = [path("x/", view)]  # type: ignore[attr-defined]
    sys.modules["bench_urls"] = urls
    # override_settings sends setting_changed, as a test does.
    override_settings(
        ROOT_URLCONF="bench_urls",
        JWT_GUARD={
            "ALGORITHMS": ["RS256"],
            "ISSUER": ISSUER,
            "AUDIENCE": AUDIENCE,
            "VERIFYING_KEY": {"rsa-1": _PEM},
            "CLOCK": _clock,
        },
    ).enable()
    from jwt_guard_django.verifier import get_verifier

    guarded = Client()
    assert guarded.get("/x/", headers=_HEADERS).status_code == 200
    plain = Client()
    without = [m for m in settings.MIDDLEWARE if "jwt_guard" not in m]
    with override_settings(MIDDLEWARE=without):
        assert plain.get("/x/", headers=_HEADERS).status_code == 200  # loads its middleware
    verifier = get_verifier()
    return {
        "core": lambda: verifier.verify(_TOKEN),
        "guarded": lambda: guarded.get("/x/", headers=_HEADERS),
        "plain": lambda: plain.get("/x/", headers=_HEADERS),
    }


def flask_cases() -> dict[str, Callable[[], object]]:
    from flask import Flask

    from jwt_guard_flask import JWTGuard, jwt_required

    app = Flask("bench")
    app.config.update(
        JWT_GUARD_ALGORITHMS=["RS256"],
        JWT_GUARD_ISSUER=ISSUER,
        JWT_GUARD_AUDIENCE=AUDIENCE,
        JWT_GUARD_PUBLIC_KEY={"rsa-1": _PEM},
        JWT_GUARD_CLOCK=_clock,
    )
    guard = JWTGuard(app)

    @app.get("/guarded")
    @jwt_required
    def guarded_view() -> str:
        return "ok"

    @app.get("/plain")
    def plain_view() -> str:
        return "ok"

    client = app.test_client()
    assert client.get("/guarded", headers=_HEADERS).status_code == 200
    verifier = guard.verifier(app)
    return {
        "core": lambda: verifier.verify(_TOKEN),
        "guarded": lambda: client.get("/guarded", headers=_HEADERS),
        "plain": lambda: client.get("/plain", headers=_HEADERS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument(
        "--cpu", action="store_true", help="time CPU used by this process, not wall time"
    )
    args = parser.parse_args()
    if args.cpu:
        global _CLOCK
        _CLOCK = time.process_time
    for name, build in (("django", django_cases), ("flask", flask_cases)):
        samples = _rounds(build(), args.rounds, args.number)
        median = {case: statistics.median(values) for case, values in samples.items()}
        # The overhead of each round (its three timings were taken together),
        # then the median of those: a round slowed by another process on a
        # shared machine moves all three of its timings.
        rounds = zip(samples["guarded"], samples["plain"], samples["core"], strict=True)
        overheads = [guarded - plain - core for guarded, plain, core in rounds]
        print(
            f"{name}: core {median['core']:.1f} us, guarded {median['guarded']:.1f} us, "
            f"plain {median['plain']:.1f} us -> adapter overhead, median of "
            f"{len(overheads)} rounds: {statistics.median(overheads):.1f} us/request"
        )


if __name__ == "__main__":
    main()
