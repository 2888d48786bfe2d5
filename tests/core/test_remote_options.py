"""RemoteJWKS options are validated at construction, naming the setting."""

from __future__ import annotations

import math

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.remote import RemoteJWKS

URL = "https://idp.example/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_ttl", -1),
        ("min_ttl", "300"),
        ("max_ttl", 0),
        ("max_ttl", math.inf),
        ("stale_ttl", -5),
        ("stale_ttl", math.nan),
        ("unknown_kid_cooldown", -1),
        ("unknown_kid_cooldown", True),
        ("timeout", 0),
        ("timeout", None),
        ("max_bytes", 10),
        ("max_bytes", 1.5),
        ("max_keys", 0),
        ("allow_http", "yes"),
        ("refresh_ahead", -1),
        ("verify", "  "),
        ("verify", 1),
        ("clock", 123),
    ],
)
def test_a_bad_option_is_a_configuration_error_naming_it(option, value):
    with pytest.raises(ConfigurationError) as info:
        RemoteJWKS(URL, **{option: value})
    assert info.value.setting == option


def test_min_ttl_above_max_ttl_is_refused():
    with pytest.raises(ConfigurationError) as info:
        RemoteJWKS(URL, min_ttl=600, max_ttl=60)
    assert info.value.setting == "min_ttl"


def test_an_unknown_option_is_a_type_error():
    with pytest.raises(TypeError):
        RemoteJWKS(URL, ttl=5)  # type: ignore[call-arg]


def test_zero_cooldown_stale_and_refresh_ahead_are_allowed():
    jwks = RemoteJWKS(URL, unknown_kid_cooldown=0, stale_ttl=0, refresh_ahead=None, min_ttl=0)
    assert repr(jwks) == f"RemoteJWKS({URL!r})"
    assert jwks.url == URL
    assert jwks.issuer is None
    assert jwks.health()["state"] == "cold"
    jwks.close()


def test_the_constructor_makes_no_request():
    # An unresolvable host: any request would fail; construction and health need none.
    jwks = RemoteJWKS("https://idp.invalid/jwks")
    assert jwks.health()["state"] == "cold"
    jwks.close()
