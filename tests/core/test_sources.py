"""Key sources from settings values, warm-up and health (jwt_guard_core.sources).

Remote key sets talk to a real pytest-httpserver on 127.0.0.1; time is a
FakeClock given to the key set.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from jwt_guard_core import ConfigurationError, GuardConfig, IssuerPolicy, StaticKeySet
from jwt_guard_core.remote import RemoteJWKS
from jwt_guard_core.sources import (
    RemoteOptionError,
    WarmFailure,
    awarm_config,
    awarm_key_sources,
    config_health,
    config_key_sources,
    hmac_key_set,
    is_loopback_url,
    key_set_health,
    remote_key_set,
    static_key_set,
    warm_config,
    warm_key_sources,
    warmable_key_sources,
)
from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, public_pem

SETTING = "JWT_GUARD_TEST_KEY"
SECRET = "k9Vq2xT7mR4pW8zL1nB6cY3hJ5fD0gS2aE7uI9oP4wQ1rT6yU8iO3pA5sD7fG9hJ"
JWKS_PATH = "/jwks.json"


@pytest.fixture
def pem(keyring: KeyRing) -> bytes:
    return public_pem(keyring.rsa)


@pytest.fixture
def jwks(rsa_keys: StaticKeySet) -> dict[str, Any]:
    return rsa_keys.jwks()


@pytest.fixture
def make_remote(clock: FakeClock) -> Iterator[Callable[..., Any]]:
    """``make_remote(url, **options)``: a remote key set on the fake clock, closed afterwards."""
    made: list[Any] = []

    def _make(url: str, *, discovery: bool = False, **options: Any) -> Any:
        source = remote_key_set(
            SETTING, url, discovery=discovery, options={"clock": clock, **options}
        )
        made.append(source)
        return source

    yield _make
    for source in made:
        source.close()


# -- static keys -----------------------------------------------------------------


def test_pem_text_and_bytes_give_one_key(pem: bytes) -> None:
    assert len(static_key_set(SETTING, pem.decode()).keys) == 1
    assert len(static_key_set(SETTING, pem).keys) == 1


def test_dict_of_kid_to_pem_keeps_the_kids(pem: bytes) -> None:
    keys = static_key_set(SETTING, {"a": pem.decode(), "b": pem})
    assert [k.kid for k in keys.keys] == ["a", "b"]


def test_jwks_dict_and_json_text_are_read_as_jwks(jwks: dict[str, Any]) -> None:
    assert [k.kid for k in static_key_set(SETTING, jwks).keys] == ["rsa-1"]
    assert [k.kid for k in static_key_set(SETTING, json.dumps(jwks)).keys] == ["rsa-1"]


def test_a_path_is_read_as_pem_or_jwks_by_its_content(
    tmp_path: Path, pem: bytes, jwks: dict[str, Any]
) -> None:
    (tmp_path / "key.pem").write_bytes(pem)
    (tmp_path / "keys.json").write_text(json.dumps(jwks))
    assert len(static_key_set(SETTING, tmp_path / "key.pem").keys) == 1
    assert len(static_key_set(SETTING, str(tmp_path / "key.pem")).keys) == 1
    assert [k.kid for k in static_key_set(SETTING, tmp_path / "keys.json").keys] == ["rsa-1"]


def test_pem_form_refuses_a_jwks_naming_the_setting(jwks: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        static_key_set(SETTING, json.dumps(jwks), form="pem")
    assert info.value.setting == SETTING
    assert "PEM" in str(info.value)


def test_jwks_form_refuses_pem_naming_the_setting(pem: bytes) -> None:
    with pytest.raises(ConfigurationError, match="not valid JSON") as info:
        static_key_set(SETTING, pem, form="jwks")
    assert info.value.setting == SETTING


def test_missing_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read key file") as info:
        static_key_set(SETTING, str(tmp_path / "missing.pem"))
    assert info.value.setting == SETTING
    assert "No such file" in str(info.value)


def test_key_file_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "key.der"
    path.write_bytes(b"\x30\x82\xff\xfe")
    with pytest.raises(ConfigurationError, match="not UTF-8 text") as info:
        static_key_set(SETTING, path)
    assert info.value.setting == SETTING


@pytest.mark.parametrize(
    ("form", "accepted"),
    [
        ("auto", "a PEM key, a JWKS or a path to either"),
        ("pem", "a PEM key, a dict of kid to PEM, or a path"),
        ("jwks", "a JWKS dict, JSON text or a path"),
    ],
)
def test_value_of_another_type_says_what_is_accepted(form: Any, accepted: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        static_key_set(SETTING, 42, form=form)
    assert str(info.value) == f"{SETTING}: a int is not {accepted}"


def test_bad_key_in_a_jwks_names_the_setting_not_the_core_parameter() -> None:
    with pytest.raises(ConfigurationError) as info:
        static_key_set(SETTING, {"keys": [{"kty": "oct", "k": "AAAA"}]})
    assert info.value.setting == SETTING
    assert str(info.value).startswith(f"{SETTING}: key #0: HMAC secret of 3 bytes is shorter")


# -- HMAC secrets ----------------------------------------------------------------


def test_hmac_secret_gives_one_key_per_allowed_hmac_algorithm() -> None:
    keys = hmac_key_set(SETTING, SECRET, ["HS256", "RS256", "HS512"])
    assert [sorted(k.algorithms) for k in keys.keys] == [["HS256"], ["HS512"]]
    assert keys.allows_hmac


@pytest.mark.parametrize("algorithms", [None, [], ["RS256"], 7])
def test_hmac_secret_without_an_hmac_algorithm_is_hs256(algorithms: Any) -> None:
    keys = hmac_key_set(SETTING, SECRET.encode(), algorithms)
    assert [sorted(k.algorithms) for k in keys.keys] == [["HS256"]]


def test_hmac_algorithm_given_as_a_string_is_one_algorithm() -> None:
    keys = hmac_key_set(SETTING, SECRET, "HS384")
    assert [sorted(k.algorithms) for k in keys.keys] == [["HS384"]]


def test_hmac_secret_shorter_than_the_hash_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="shorter") as info:
        hmac_key_set(SETTING, SECRET[:40], ["HS512"])
    assert info.value.setting == SETTING


@pytest.mark.parametrize("secret", ["", b"", None, 32, [SECRET]])
def test_hmac_secret_must_be_non_empty_str_or_bytes(secret: Any) -> None:
    with pytest.raises(ConfigurationError, match="non-empty str or bytes") as info:
        hmac_key_set(SETTING, secret, None)
    assert info.value.setting == SETTING


# -- remote key sets -------------------------------------------------------------


def test_jwks_url_gives_a_remote_key_set_that_fetches_on_warm(
    httpserver: HTTPServer, jwks: dict[str, Any], make_remote: Callable[..., Any]
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json(jwks)
    source = make_remote(httpserver.url_for(JWKS_PATH))
    assert isinstance(source, RemoteJWKS)
    assert len(httpserver.log) == 0
    assert warm_key_sources([source]) == []
    assert source.get_key("rsa-1", "RS256").kid == "rsa-1"
    assert len(httpserver.log) == 1


def test_oidc_issuer_discovers_the_jwks_uri(
    httpserver: HTTPServer, jwks: dict[str, Any], make_remote: Callable[..., Any]
) -> None:
    issuer = httpserver.url_for("/realm")
    httpserver.expect_request("/realm/.well-known/openid-configuration").respond_with_json(
        {"issuer": issuer, "jwks_uri": httpserver.url_for(JWKS_PATH)}
    )
    httpserver.expect_request(JWKS_PATH).respond_with_json(jwks)
    source = make_remote(issuer, discovery=True)
    assert source.issuer == issuer
    assert warm_key_sources([source]) == []
    assert source.url == httpserver.url_for(JWKS_PATH)


@pytest.mark.parametrize("url", [None, "", 42])
def test_value_that_is_not_a_url_is_refused_naming_the_setting(url: Any) -> None:
    with pytest.raises(ConfigurationError, match="is not a URL") as info:
        remote_key_set(SETTING, url)
    assert info.value.setting == SETTING


@pytest.mark.parametrize(
    ("url", "discovery", "message"),
    [
        ("ftp://keys.example/jwks", False, "must be an https URL"),
        ("http://keys.example/jwks", False, "plain http"),
        ("http://idp.example", True, "plain http"),
        ("https://idp.example?realm=a", True, "no query or fragment"),
    ],
)
def test_url_the_core_refuses_is_named_by_the_setting(
    url: str, discovery: bool, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        remote_key_set(SETTING, url, discovery=discovery)
    assert info.value.setting == SETTING
    assert not isinstance(info.value, RemoteOptionError)


def test_bad_option_value_names_the_option() -> None:
    with pytest.raises(RemoteOptionError) as info:
        remote_key_set(SETTING, "https://keys.example/jwks", options={"timeout": -1})
    assert info.value.option == "timeout"
    assert info.value.setting == f"{SETTING} (JWKS_OPTIONS['timeout'])"
    assert info.value.detail == "-1 is not accepted; give a number > 0"


def test_unknown_option_is_refused_with_the_options_setting_named() -> None:
    with pytest.raises(RemoteOptionError, match="not accepted by RemoteJWKS") as info:
        remote_key_set(
            SETTING,
            "https://keys.example/jwks",
            options={"ttl": 5},
            options_setting="JWT_GUARD_JWKS_OPTIONS",
        )
    assert info.value.option is None
    assert info.value.setting == f"{SETTING} (JWT_GUARD_JWKS_OPTIONS)"
    assert "ttl" in info.value.detail


def test_options_that_are_not_a_dict_are_refused() -> None:
    with pytest.raises(RemoteOptionError, match="give a dict of RemoteJWKS options") as info:
        remote_key_set(SETTING, "https://keys.example/jwks", options=[("timeout", 1)])  # type: ignore[arg-type]
    assert info.value.option is None


def test_static_keys_never_load_the_remote_machinery(tmp_path: Path, pem: bytes) -> None:
    (tmp_path / "key.pem").write_bytes(pem)
    code = (
        "import sys\n"
        "from jwt_guard_core.sources import static_key_set\n"
        f"static_key_set('K', {str(tmp_path / 'key.pem')!r})\n"
        "print('jwt_guard_core.remote' in sys.modules, 'httpx' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://localhost:8080/jwks", True),
        ("http://127.0.0.1/jwks", True),
        ("http://127.8.9.10/jwks", True),
        ("http://[::1]:9000/jwks", True),
        ("http://LOCALHOST/jwks", True),
        ("http://keys.example/jwks", False),
        ("http://10.0.0.1/jwks", False),
        ("http://localhost.evil.example/jwks", False),
        ("not a url", False),
    ],
)
def test_is_loopback_url(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


# -- sources of a config, warm-up ----------------------------------------------------


def test_config_key_sources_maps_each_issuer_to_its_keys(rsa_keys: StaticKeySet) -> None:
    hmac = hmac_key_set(SETTING, SECRET)
    config = GuardConfig(
        issuers={
            ISSUER: IssuerPolicy(keys=rsa_keys, algorithms=["RS256"]),
            "https://other.example": IssuerPolicy(keys=hmac, algorithms=["HS256"]),
        },
        audience=AUDIENCE,
    )
    assert config_key_sources(config) == {ISSUER: rsa_keys, "https://other.example": hmac}


def test_config_key_sources_without_issuer_check_is_keyed_by_none(
    rsa_keys: StaticKeySet,
) -> None:
    config = GuardConfig(
        keys=rsa_keys, verify_issuer=False, audience=AUDIENCE, algorithms=["RS256"]
    )
    assert config_key_sources(config) == {None: rsa_keys}


def test_a_remote_shared_by_issuers_is_warmed_once_and_static_sets_never(
    httpserver: HTTPServer,
    jwks: dict[str, Any],
    rsa_keys: StaticKeySet,
    make_remote: Callable[..., Any],
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json(jwks)
    remote = make_remote(httpserver.url_for(JWKS_PATH))
    sources = [remote, rsa_keys, remote]
    assert warmable_key_sources(sources) == [remote]
    assert warm_key_sources(sources) == []
    assert len(httpserver.log) == 1


def test_warm_reports_a_key_set_it_could_not_fetch(
    httpserver: HTTPServer, make_remote: Callable[..., Any]
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=500)
    remote = make_remote(httpserver.url_for(JWKS_PATH))
    assert warm_key_sources([remote]) == [WarmFailure(remote, None)]


async def test_awarm_fetches_and_reports_like_warm(
    httpserver: HTTPServer, jwks: dict[str, Any], make_remote: Callable[..., Any]
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json(jwks)
    httpserver.expect_request("/down.json").respond_with_data("down", status=503)
    good = make_remote(httpserver.url_for(JWKS_PATH))
    down = make_remote(httpserver.url_for("/down.json"))
    try:
        assert await awarm_key_sources([good, down]) == [WarmFailure(down, None)]
        assert good.health()["state"] == "ok"
    finally:
        await good.aclose()
        await down.aclose()


# -- health ------------------------------------------------------------------------


def test_health_of_a_static_key_set_counts_its_keys(rsa_keys: StaticKeySet) -> None:
    hmac = hmac_key_set(SETTING, SECRET, ["HS256", "HS512"])
    assert key_set_health({ISSUER: rsa_keys, None: hmac}) == {
        "ok": True,
        "key_sets": {
            ISSUER: {"type": "static", "keys": 1},
            "*": {"type": "static", "keys": 2},
        },
    }


def test_health_of_a_remote_key_set_before_any_fetch_is_cold_and_ok(
    make_remote: Callable[..., Any],
) -> None:
    remote = make_remote("https://keys.example/jwks")
    health = key_set_health({ISSUER: remote})
    assert health["ok"] is True
    entry = health["key_sets"][ISSUER]
    assert entry["type"] == "remote"
    assert entry["state"] == "cold"
    assert entry["url"] == "https://keys.example/jwks"
    assert entry["kids"] == []


def test_health_goes_ok_then_stale_then_unavailable_as_the_clock_moves(
    httpserver: HTTPServer,
    jwks: dict[str, Any],
    clock: FakeClock,
    make_remote: Callable[..., Any],
) -> None:
    # The provider answers once, then fails: cached keys serve for stale_ttl.
    httpserver.expect_oneshot_request(JWKS_PATH).respond_with_json(jwks)
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=500)
    remote = make_remote(httpserver.url_for(JWKS_PATH), min_ttl=60, refresh_ahead=0, stale_ttl=600)
    assert warm_key_sources([remote]) == []
    health = key_set_health({ISSUER: remote})
    assert health["ok"] is True
    assert health["key_sets"][ISSUER]["state"] == "ok"
    assert health["key_sets"][ISSUER]["kids"] == ["rsa-1"]

    clock.advance(61)
    # The refetch fails, but the cached keys are still usable: no failure to report.
    assert warm_key_sources([remote]) == []
    health = key_set_health({ISSUER: remote})
    assert health["ok"] is True
    assert health["key_sets"][ISSUER]["state"] == "stale"
    assert health["key_sets"][ISSUER]["failures"] == 1

    clock.advance(600)
    health = key_set_health({ISSUER: remote})
    assert health["ok"] is False
    assert health["key_sets"][ISSUER]["state"] == "unavailable"


def test_health_of_a_remote_that_never_answered_is_unavailable_and_not_ok(
    httpserver: HTTPServer, rsa_keys: StaticKeySet, make_remote: Callable[..., Any]
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=500)
    remote = make_remote(httpserver.url_for(JWKS_PATH))
    warm_key_sources([remote])
    health = key_set_health({ISSUER: remote, "https://static.example": rsa_keys})
    assert health["ok"] is False
    assert health["key_sets"][ISSUER]["state"] == "unavailable"
    assert health["key_sets"][ISSUER]["last_error"]
    assert health["key_sets"]["https://static.example"] == {"type": "static", "keys": 1}


# -- a verifier's config: what the adapters' warm, awarm and health call ----------------


def _remote_config(remote: Any, rsa_keys: StaticKeySet) -> GuardConfig:
    return GuardConfig(
        issuers={
            ISSUER: IssuerPolicy(keys=remote, algorithms=["RS256"]),
            "https://static.example": IssuerPolicy(keys=rsa_keys, algorithms=["RS256"]),
        },
        audience=AUDIENCE,
    )


def test_warm_config_fetches_its_remote_key_sets_and_logs_what_failed(
    httpserver: HTTPServer,
    rsa_keys: StaticKeySet,
    make_remote: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=500)
    remote = make_remote(httpserver.url_for(JWKS_PATH))
    config = _remote_config(remote, rsa_keys)
    logger = logging.getLogger("jwt_guard.test_sources")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        warm_config(config, logger)
    [record] = [r for r in caplog.records if r.name == logger.name]
    assert record.jwt_guard_event == "warm_failed"
    assert len(httpserver.log) == 1
    health = config_health(config)
    assert health["ok"] is False
    assert health["key_sets"][ISSUER]["state"] == "unavailable"
    assert health["key_sets"]["https://static.example"] == {"type": "static", "keys": 1}


async def test_awarm_config_fetches_without_blocking_and_logs_nothing_when_fine(
    httpserver: HTTPServer,
    jwks: dict[str, Any],
    rsa_keys: StaticKeySet,
    make_remote: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json(jwks)
    remote = make_remote(httpserver.url_for(JWKS_PATH))
    logger = logging.getLogger("jwt_guard.test_sources")
    try:
        with caplog.at_level(logging.WARNING, logger=logger.name):
            await awarm_config(_remote_config(remote, rsa_keys), logger)
        assert [r for r in caplog.records if r.name == logger.name] == []
        assert config_health(_remote_config(remote, rsa_keys))["key_sets"][ISSUER]["state"] == "ok"
    finally:
        await remote.aclose()
