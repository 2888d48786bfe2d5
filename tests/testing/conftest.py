"""Fixtures for the test kit's own tests: a serving issuer and verifiers over its keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jwt_guard_core import GuardConfig, KeySource, RemoteJWKS, StaticKeySet, Verifier
from jwt_guard_core.testing import LocalIssuer, TokenFactory


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as local:
        yield local


@pytest.fixture
def tokens(issuer: LocalIssuer) -> TokenFactory:
    return issuer.tokens()


@pytest.fixture
def key_source(issuer: LocalIssuer) -> Iterator[Callable[[str], KeySource]]:
    """``key_source(mode)``: the issuer's keys as "static", "jwks" or "discovery" (closed after)."""
    opened: list[RemoteJWKS] = []

    def _make(mode: str) -> KeySource:
        if mode == "static":
            return StaticKeySet.from_jwks(issuer.jwks())
        options: dict[str, Any] = {"unknown_kid_cooldown": 0}
        remote = (
            RemoteJWKS(issuer.jwks_url, **options)
            if mode == "jwks"
            else RemoteJWKS.from_issuer(issuer.url, **options)
        )
        opened.append(remote)
        return remote

    yield _make
    for remote in opened:
        remote.close()


def verifier_for(local: LocalIssuer, keys: KeySource, **options: Any) -> Verifier:
    """A verifier configured as an application trusting ``local`` would be."""
    settings: dict[str, Any] = {
        "algorithms": [local.algorithm],
        "keys": keys,
        "issuer": local.url,
        "audience": local.audience,
    }
    settings.update(options)
    return Verifier(GuardConfig(**settings))
