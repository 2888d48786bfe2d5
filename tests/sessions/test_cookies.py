"""CookiePolicy: the attributes of the access, refresh and CSRF cookies, and double submit."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import CookiePolicy, MemorySessionStore


@pytest.fixture
def tokens(make_sessions):
    return make_sessions(MemorySessionStore()).issue("user-1")


def test_session_cookies_are_httponly_secure_strict_and_refresh_is_path_scoped(tokens, clock):
    access, refresh, csrf = CookiePolicy().session_cookies(tokens, now=clock(), access_max_age=900)

    assert (access.name, access.value, access.path) == ("access_token", tokens.access_token, "/")
    assert (access.http_only, access.secure, access.same_site) == (True, True, "Strict")
    assert access.max_age == 900
    assert access.domain is None

    assert (refresh.name, refresh.value) == ("refresh_token", tokens.refresh_token)
    assert refresh.path == "/auth/refresh"
    assert (refresh.http_only, refresh.secure, refresh.same_site) == (True, True, "Strict")
    assert refresh.max_age == 14 * 86400

    # The CSRF cookie is the one the page's script must read.
    assert csrf.name == "csrf_token"
    assert (csrf.http_only, csrf.secure, csrf.same_site) == (False, True, "Strict")
    assert len(csrf.value) >= 43
    assert csrf.max_age == refresh.max_age


def test_each_session_gets_a_fresh_csrf_value(tokens, clock):
    policy = CookiePolicy()
    first = policy.session_cookies(tokens, now=clock(), access_max_age=900)[2]
    second = policy.session_cookies(tokens, now=clock(), access_max_age=900)[2]
    assert first.value != second.value


def test_set_cookie_header_is_well_formed_and_carries_every_attribute(tokens, clock):
    refresh = CookiePolicy(refresh_path="/api/token/refresh").session_cookies(
        tokens, now=clock(), access_max_age=900
    )[1]
    header = refresh.header()
    parsed = SimpleCookie()
    parsed.load(header)
    morsel = parsed["refresh_token"]
    assert morsel.value == tokens.refresh_token
    assert morsel["path"] == "/api/token/refresh"
    assert morsel["max-age"] == str(14 * 86400)
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"] == "Strict"
    assert "Domain" not in header


def test_clear_cookies_expire_all_three_on_their_own_paths():
    policy = CookiePolicy(domain="example.com")
    access, refresh, csrf = policy.clear_cookies()
    assert all(c.deletes and c.value == "" for c in (access, refresh, csrf))
    assert refresh.path == "/auth/refresh"
    assert access.path == csrf.path == "/"
    assert all(c.domain == "example.com" for c in (access, refresh, csrf))
    header = refresh.header()
    assert "Max-Age=0" in header
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in header


def test_token_values_never_appear_in_a_cookie_repr(tokens, clock):
    cookies = CookiePolicy().session_cookies(tokens, now=clock(), access_max_age=900)
    text = repr(cookies)
    assert tokens.refresh_token not in text
    assert tokens.access_token not in text


def test_double_submit_passes_only_with_the_matching_header():
    policy = CookiePolicy()
    csrf = policy.csrf_cookie_spec(max_age=60)
    cookies = {"csrf_token": csrf.value}
    assert policy.csrf_valid(cookies, {"X-CSRF-Token": csrf.value})
    assert policy.csrf_valid(cookies, {"x-csrf-token": csrf.value})
    assert not policy.csrf_valid(cookies, {"X-CSRF-Token": csrf.value + "x"})
    assert not policy.csrf_valid(cookies, {})
    assert not policy.csrf_valid({}, {"X-CSRF-Token": csrf.value})
    assert not policy.csrf_valid({"csrf_token": ""}, {"X-CSRF-Token": ""})


def test_custom_csrf_header_name_is_used():
    policy = CookiePolicy(csrf_header="X-XSRF-TOKEN")
    assert policy.csrf_valid({"csrf_token": "v" * 43}, {"X-XSRF-TOKEN": "v" * 43})
    assert not policy.csrf_valid({"csrf_token": "v" * 43}, {"X-CSRF-Token": "v" * 43})


def test_host_prefixed_names_are_accepted_with_their_required_attributes():
    policy = CookiePolicy(access_cookie="__Host-access", csrf_cookie="__Host-csrf")
    assert policy.access_cookie_spec("t", max_age=1).name == "__Host-access"


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"same_site": "None", "secure": False}, "same_site"),
        ({"same_site": "strict"}, "same_site"),
        ({"secure": "true"}, "secure"),
        ({"access_cookie": "bad name"}, "access_cookie"),
        ({"refresh_cookie": "a;b"}, "refresh_cookie"),
        ({"csrf_cookie": "access_token"}, "csrf_cookie"),
        ({"refresh_path": "auth/refresh"}, "refresh_path"),
        ({"access_path": "/a; Domain=evil"}, "access_path"),
        ({"domain": "a.com; Secure"}, "domain"),
        ({"refresh_cookie": "__Host-refresh"}, "refresh_cookie"),
        ({"access_cookie": "__Host-a", "domain": "example.com"}, "access_cookie"),
        ({"access_cookie": "__Secure-a", "secure": False}, "access_cookie"),
        ({"csrf_header": "X CSRF"}, "csrf_header"),
    ],
)
def test_bad_cookie_settings_are_refused_naming_the_setting(options, setting):
    with pytest.raises(ConfigurationError) as caught:
        CookiePolicy(**options)
    assert caught.value.setting == setting
