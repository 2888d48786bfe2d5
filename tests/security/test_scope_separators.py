"""A scope claim grants exactly the scopes RFC 6749 section 3.3 reads in it.

The separator is U+0020 and nothing else, and a scope-token is printable
ASCII without ``"`` or ``\\``. A verifier that splits on any Unicode
whitespace reads ``"files:read:report\\u3000admin"`` as two scopes and
grants ``admin`` to a token whose issuer granted one odd-looking scope (an
issuer that lets clients name scopes, a consent screen that shows the value
as one string). Such a token is refused with ``invalid_claim``, in ``scope``
and ``scp``, as a string or as list elements, and both adapters answer
401 ``invalid_token``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError, InvalidClaim, Verifier
from jwt_guard_core.http import check_scopes
from jwt_guard_flask import JWTGuard, jwt_required
from tests.factories import AUDIENCE, ISSUER, KeyRing, claims, public_pem, sign
from tests.security.helpers import Rejects

# Every character str.split() splits on, but U+0020 (checked by the first test).
SEPARATORS = {
    "tab": "\t",
    "lf": "\n",
    "vt": "\x0b",
    "ff": "\x0c",
    "cr": "\r",
    "fs": "\x1c",
    "gs": "\x1d",
    "rs": "\x1e",
    "us": "\x1f",
    "nel": "\x85",
    "nbsp": "\xa0",
    "ogham": "\u1680",
    **{f"u{cp:04x}": chr(cp) for cp in range(0x2000, 0x200B)},
    "line-sep": "\u2028",
    "para-sep": "\u2029",
    "nnbsp": "\u202f",
    "mmsp": "\u205f",
    "ideographic": "\u3000",
}
GRANTED = "files:read:report"


def test_the_list_covers_every_separator_str_split_knows() -> None:
    splitters = {chr(cp) for cp in range(0x110000) if len(f"a{chr(cp)}b".split()) == 2}
    assert splitters - {" "} == set(SEPARATORS.values())


def _token(keyring: KeyRing, **claim_overrides: Any) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**claim_overrides), keyring.rsa)


@pytest.mark.parametrize("sep", SEPARATORS.values(), ids=SEPARATORS.keys())
@pytest.mark.parametrize(
    "shape",
    [
        lambda v: {"scope": v},
        lambda v: {"scope": None, "scp": v},
        lambda v: {"scope": None, "scp": [v]},
        lambda v: {"scope": None, "scp": ["profile", v]},
    ],
    ids=["scope", "scp-string", "scp-list", "scp-list-second"],
)
def test_a_scope_joined_by_another_separator_is_refused_with_invalid_claim(
    make_verifier: Callable[..., Verifier],
    keyring: KeyRing,
    rejects: Rejects,
    sep: str,
    shape: Callable[[str], dict[str, Any]],
) -> None:
    token = _token(keyring, **shape(f"{GRANTED}{sep}admin"))
    rejects(make_verifier(), token, InvalidClaim, "invalid_claim")


@pytest.mark.parametrize(
    "value",
    [" profile", "profile ", "profile  orders:read", "caf\u00e9", 'a"b', "a\\b", "a\x7fb"],
    ids=["leading", "trailing", "double", "non-ascii", "quote", "backslash", "del"],
)
def test_scope_strings_outside_the_rfc_grammar_are_refused(
    make_verifier: Callable[..., Verifier], keyring: KeyRing, rejects: Rejects, value: str
) -> None:
    rejects(make_verifier(), _token(keyring, scope=value), InvalidClaim, "invalid_claim")


def test_single_space_separated_scopes_and_scope_lists_are_accepted(
    make_verifier: Callable[..., Verifier], keyring: KeyRing, rejects: Rejects
) -> None:
    verifier = make_verifier()
    token = rejects.accepts(verifier, _token(keyring, scope=f"{GRANTED} profile"))
    assert token.scopes == {GRANTED, "profile"}
    listed = rejects.accepts(verifier, _token(keyring, scope=None, scp=[GRANTED, "profile"]))
    assert listed.scopes == {GRANTED, "profile"}


@pytest.mark.parametrize("sep", ["\t", "\xa0", "\u3000"], ids=["tab", "nbsp", "ideographic"])
def test_required_scopes_are_split_on_spaces_only(
    make_verifier: Callable[..., Verifier], keyring: KeyRing, sep: str
) -> None:
    token = make_verifier().verify(_token(keyring, scope=f"{GRANTED} admin"))
    check_scopes(token, f"{GRANTED}  admin")
    with pytest.raises(ConfigurationError) as info:
        check_scopes(token, f"{GRANTED}{sep}admin")
    assert info.value.setting == "scopes"


@pytest.mark.parametrize("sep", ["\t", "\x1f", "\xa0", "\u3000"], ids=["tab", "us", "nbsp", "cjk"])
def test_django_answers_401_invalid_token(
    settings: Any, keyring: KeyRing, clock: Any, client: Any, sep: str
) -> None:
    settings.ROOT_URLCONF = "tests.django.urls"
    settings.JWT_GUARD = {
        "ALGORITHMS": ["RS256"],
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()},
        "CLOCK": clock,
    }
    token = _token(keyring, scope=f"{GRANTED}{sep}admin")
    response = client.get("/any-scope/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


@pytest.mark.parametrize("sep", ["\t", "\x1f", "\xa0", "\u3000"], ids=["tab", "us", "nbsp", "cjk"])
def test_flask_answers_401_invalid_token(keyring: KeyRing, clock: Any, sep: str) -> None:
    app = Flask("scope_separators")
    app.config.update(
        JWT_GUARD_ALGORITHMS=["RS256"],
        JWT_GUARD_ISSUER=ISSUER,
        JWT_GUARD_AUDIENCE=AUDIENCE,
        JWT_GUARD_PUBLIC_KEY={"rsa-1": public_pem(keyring.rsa)},
        JWT_GUARD_CLOCK=clock,
    )
    JWTGuard(app)

    @app.get("/admin")
    @jwt_required(scopes=["admin"])
    def admin() -> str:
        return "admin"

    token = _token(keyring, scope=f"{GRANTED}{sep}admin")
    response = app.test_client().get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
