"""docs/providers.md: every token example verifies (or is refused) as its section says.

A JSON block marked ``<!-- token: PROVIDER access -->`` is ``{"header",
"payload"}`` of that provider's access token: signed here with a test key
of the header's algorithm, it must be accepted by the profile configured
with the parameters of tests/providers/shapes.py (the page's configuration
blocks use the same ones). ``<!-- token: PROVIDER other REASON [SETTINGS] -->``
marks another kind of token of the same provider, which must be refused with
``REASON`` (``SETTINGS``: a JSON object of settings given next to the profile).
Every provider section has both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import TokenError, Verifier
from jwt_guard_core.providers import PROFILES
from jwt_guard_core.settings import GuardSettings
from tests.factories import FakeClock, public_pem, sign
from tests.providers.shapes import SHAPES

from .readme_blocks import Block, blocks

PAGE = Path(__file__).resolve().parents[2] / "docs" / "providers.md"


def _examples() -> list[tuple[Block, list[str]]]:
    found = []
    for block in blocks(PAGE):
        if block.marker and block.marker.startswith("token:"):
            assert block.language == "json", f"{block.where}: a token example is a json block"
            found.append((block, block.marker.removeprefix("token:").split(maxsplit=3)))
    return found


EXAMPLES = _examples()


def _key(alg: str, keyring: Any) -> Any:
    return keyring.p256 if alg == "ES256" else keyring.rsa


def _verifier(provider: str, example: dict[str, Any], keyring: Any, extra: dict[str, Any]) -> Any:
    params = next(s.params for s in SHAPES if s.provider == provider)
    header = example["header"]
    raw = {
        "PROVIDER": {"name": provider, **params},
        "VERIFYING_KEY": {
            header.get("kid", "test"): public_pem(_key(header["alg"], keyring)).decode()
        },
        "CLOCK": FakeClock(example["payload"]["iat"] + 30),
        **extra,
    }
    return Verifier(GuardSettings.from_mapping(raw, "django").guard_config())


def _token(example: dict[str, Any], keyring: Any) -> str:
    header = example["header"]
    key = b"a legacy project secret, 32 bytes" if header["alg"] == "HS256" else None
    return sign(header, example["payload"], key or _key(header["alg"], keyring))


def test_every_provider_has_an_access_token_and_another_token_example():
    kinds = {(words[0], words[1]) for _, words in EXAMPLES}
    assert kinds == {(name, kind) for name in PROFILES for kind in ("access", "other")}


@pytest.mark.parametrize(
    ("block", "words"),
    [e for e in EXAMPLES if e[1][1] == "access"],
    ids=lambda e: e.where if isinstance(e, Block) else e[0],
)
def test_the_access_token_example_is_accepted(block, words, keyring):
    example = json.loads(block.code)
    result = _verifier(words[0], example, keyring, {}).verify(_token(example, keyring))
    assert result.subject == example["payload"]["sub"]
    assert result.issuer == example["payload"]["iss"]
    shape = next(s for s in SHAPES if s.provider == words[0])
    assert result.roles == shape.roles  # the page's claims grant what the test shapes grant
    assert result.scopes == shape.scopes


@pytest.mark.parametrize(
    ("block", "words"),
    [e for e in EXAMPLES if e[1][1] == "other"],
    ids=lambda e: e.where if isinstance(e, Block) else e[0],
)
def test_the_other_token_example_is_refused_with_its_reason(block, words, keyring):
    example = json.loads(block.code)
    extra = json.loads(words[3]) if len(words) > 3 else {}
    verifier = _verifier(words[0], example, keyring, extra)
    with pytest.raises(TokenError) as refused:
        verifier.verify(_token(example, keyring))
    assert refused.value.reason == words[2]
    assert refused.value.status == 401
