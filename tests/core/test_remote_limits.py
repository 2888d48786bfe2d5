"""Limits on what a remote key set may send: size, time, redirects, scheme, type, keys."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Response

from jwt_guard_core import ConfigurationError, KeySourceUnavailable, UnknownKid
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.remote import RemoteJWKS
from tests.core.remote_servers import (
    JSON,
    Gate,
    garbage,
    jwks_response,
    named,
    public_jwk,
    reset,
    truncated,
)

pytest_plugins = ["tests.core.remote_fixtures"]


def rsa_jwk(private_key, kid):
    """A public RSA JWK built by hand, for keys our own helpers would refuse."""
    numbers = private_key.public_key().public_numbers()
    as_b64 = lambda n: b64url_encode(n.to_bytes((n.bit_length() + 7) // 8, "big"))  # noqa: E731
    return {"kty": "RSA", "kid": kid, "n": as_b64(numbers.n), "e": as_b64(numbers.e)}


def failure(seen):
    (event,) = named(seen, "jwks_fetch_failed")
    return event


# --- size ------------------------------------------------------------------------


def test_a_body_over_the_size_cap_is_refused_by_its_content_length(
    jwks_server, make_jwks, jwk_a, seen
):
    jwks_server.serve_keys(jwk_a, {"pad": "x" * 600_000})
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert failure(seen).reason == "too_large"


def test_a_streamed_body_without_length_is_cut_off_at_the_cap(jwks_server, make_jwks, jwk_a, seen):
    produced = []

    def endless():
        yield b'{"keys": ['
        for _ in range(10_000):  # 10 MB if nobody stops reading
            produced.append(1)
            yield b" " * 1024

    jwks_server.handle(lambda request: Response(endless(), content_type=JSON))
    jwks = make_jwks(jwks_server.url(), max_bytes=64 * 1024)
    assert jwks.warm() is False
    assert failure(seen).reason == "too_large"
    assert len(produced) < 10_000


def test_the_cap_applies_to_the_decoded_body_so_a_gzip_bomb_is_refused(
    jwks_server, make_jwks, seen
):
    bomb = gzip.compress(b'{"keys": [' + b" " * 5_000_000 + b"]}")
    assert len(bomb) < 10_000
    jwks_server.handle(
        lambda request: Response(bomb, content_type=JSON, headers={"Content-Encoding": "gzip"})
    )
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    assert failure(seen).reason == "too_large"


def test_a_body_just_under_the_cap_is_accepted(jwks_server, make_jwks, jwk_a):
    body = json.dumps({"keys": [jwk_a]})
    body = body[:-1] + " " * (4096 - len(body)) + "}"
    assert len(body) == 4096
    jwks_server.serve(body)
    jwks = make_jwks(jwks_server.url(), max_bytes=4096)
    assert jwks.get_key("a", "RS256").kid == "a"


# --- time ------------------------------------------------------------------------


def test_a_server_that_does_not_answer_in_time_is_a_timeout(jwks_server, make_jwks, jwk_a, seen):
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    jwks = make_jwks(jwks_server.url(), timeout=0.05)
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    gate.release.set()
    assert info.value.status == 503
    assert failure(seen).reason == "timeout"


async def test_async_a_server_that_does_not_answer_in_time_is_a_timeout(
    jwks_server, make_jwks, jwk_a, seen
):
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    jwks = make_jwks(jwks_server.url(), timeout=0.05)
    with pytest.raises(KeySourceUnavailable):
        await jwks.aget_key("a", "RS256")
    gate.release.set()
    await jwks.aclose()
    assert failure(seen).reason == "timeout"


# --- redirects ---------------------------------------------------------------------


def redirect(location, status=302):
    return lambda request: Response(status=status, headers={"Location": location})


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_the_same_origin_is_followed(jwks_server, make_jwks, jwk_a, status):
    jwks_server.handle(redirect("/keys/v2", status))
    jwks_server.add("/keys/v2", jwks_response(jwk_a))
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"
    assert jwks_server.count("/keys/v2") == 1


def test_a_redirect_to_another_host_is_refused(jwks_server, make_jwks, jwk_a, seen):
    # localhost and 127.0.0.1 reach the same server, but they are different hosts.
    other = jwks_server.url("/keys").replace("127.0.0.1", "localhost")
    jwks_server.handle(redirect(other))
    jwks_server.add("/keys", jwks_response(jwk_a))
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert failure(seen).reason == "redirect_refused"
    assert jwks_server.count("/keys") == 0


def test_a_redirect_to_another_port_is_refused(jwks_server, other_server, make_jwks, jwk_a, seen):
    other_server.serve_keys(jwk_a)
    jwks_server.handle(redirect(other_server.url()))
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    assert failure(seen).reason == "redirect_refused"
    assert other_server.count() == 0


def test_a_redirect_loop_stops_after_a_few_hops(jwks_server, make_jwks, seen):
    jwks_server.handle(redirect("/.well-known/jwks.json"))
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    assert failure(seen).reason == "too_many_redirects"
    assert jwks_server.count() == 4


def test_a_redirect_without_location_is_a_failed_fetch(jwks_server, make_jwks, seen):
    jwks_server.handle(lambda request: Response(status=302))
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    assert failure(seen).reason == "bad_redirect"


# --- scheme ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example/jwks",
        "http://10.0.0.1/jwks",
        "ftp://idp.example/jwks",
        "file:///etc/jwks.json",
        "https://user:pw@idp.example/jwks",
        "https:///jwks",
        "https://idp.example:99999/jwks",
        "https://idp.example/jwks#frag",
        "",
        None,
        42,
    ],
)
def test_urls_that_are_not_https_or_are_unusable_are_refused_at_configuration(url):
    with pytest.raises(ConfigurationError) as info:
        RemoteJWKS(url)
    assert info.value.setting == "url"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/jwks",
        "http://127.8.9.10/jwks",
        "http://localhost/jwks",
        "http://LOCALHOST./jwks",
        "http://[::1]:8000/jwks",
        "https://idp.example/jwks",
    ],
)
def test_https_and_loopback_http_urls_are_accepted(url):
    RemoteJWKS(url).close()


def test_plain_http_to_another_host_needs_the_explicit_opt_in():
    RemoteJWKS("http://idp.internal/jwks", allow_http=True).close()


# --- content type and body -----------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/jwk-set+json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.provider+json",
    ],
)
def test_json_content_types_are_accepted(jwks_server, make_jwks, jwk_a, content_type):
    jwks_server.serve_keys(jwk_a, content_type=content_type)
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"


@pytest.mark.parametrize("content_type", ["text/html", "text/plain", "application/octet-stream"])
def test_a_body_that_is_not_declared_json_is_refused(
    jwks_server, make_jwks, jwk_a, seen, content_type
):
    jwks_server.serve_keys(jwk_a, content_type=content_type)
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert failure(seen).reason == "bad_content_type"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<html>login</html>", "bad_json"),
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"keys": [], "keys": []}', "bad_json"),
        (b'{"keys": ["\xff"]}', "bad_json"),
        ('{"keys": {}}', "bad_jwks"),
        ('{"jwks": []}', "bad_jwks"),
        ('{"keys": [1, "two", null]}', "no_usable_keys"),
        ("", "bad_json"),
    ],
)
def test_garbage_bodies_are_a_failed_fetch_with_a_reason(
    jwks_server, make_jwks, seen, body, reason
):
    jwks_server.serve(body)
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    assert info.value.status == 503
    assert failure(seen).reason == reason


def test_leading_whitespace_before_the_json_is_accepted(jwks_server, make_jwks, jwk_a):
    jwks_server.serve("\n  " + json.dumps({"keys": [jwk_a]}))
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"


def test_an_empty_set_is_a_valid_answer_in_which_no_kid_exists(jwks_server, make_jwks):
    jwks_server.serve_keys()
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(UnknownKid):
        jwks.get_key("a", "RS256")
    assert jwks.health()["state"] == "ok"


# --- key count and key hygiene -------------------------------------------------------


def test_a_set_with_more_keys_than_the_limit_is_refused(jwks_server, make_jwks, jwk_a, seen):
    jwks_server.serve_keys(*[dict(jwk_a, kid=f"k{n}") for n in range(101)])
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    assert failure(seen).reason == "too_many_keys"


def test_the_key_count_limit_is_configurable(jwks_server, make_jwks, jwk_a, seen):
    jwks_server.serve_keys(*[dict(jwk_a, kid=f"k{n}") for n in range(3)])
    assert make_jwks(jwks_server.url(), max_keys=3).warm() is True
    assert make_jwks(jwks_server.url(), max_keys=2).warm() is False


def test_bad_keys_are_skipped_with_an_event_and_the_good_ones_serve(
    jwks_server, make_jwks, clock, jwk_a, keyring, seen
):
    weak = rsa.generate_private_key(65537, 1024)
    bad = [
        dict(public_jwk(keyring.p256, "enc"), use="enc"),
        rsa_jwk(weak, "weak"),
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
        dict(jwk_a, kid="private", d="AQAB"),
        {"kty": "RSA", "kid": "junk", "n": "!!", "e": "AQAB"},
        {"kty": "XYZ", "kid": "unknown"},
        dict(public_jwk(keyring.p256, "mismatch"), alg="RS256"),
        "not an object",
    ]
    jwks_server.serve_keys(jwk_a, *bad)
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"
    for kid in ("enc", "weak", "hmac", "private", "junk", "unknown", "mismatch"):
        with pytest.raises(UnknownKid):
            jwks.get_key(kid, "RS256")
    skipped = named(seen, "jwks_key_skipped")
    assert [e.fields.get("kid") for e in skipped] == [
        "enc",
        "weak",
        "hmac",
        "private",
        "junk",
        "unknown",
        "mismatch",
        None,
    ]
    assert all(e.fields["problem"] for e in skipped)
    assert "bits" in skipped[1].fields["problem"]
    assert "private" in skipped[3].fields["problem"]
    # An encryption key (Keycloak and Entra publish theirs in the same set)
    # is expected: INFO; the others are warnings.
    assert skipped[0].level == logging.INFO
    assert all(e.level == logging.WARNING for e in skipped[1:])
    # A refresh of the same set does not report the same keys again.
    clock.advance(301)
    jwks.warm()
    assert len(named(seen, "jwks_key_skipped")) == len(bad)
    assert jwks.allows_hmac is False


def test_two_keys_with_the_same_kid_are_both_dropped(jwks_server, make_jwks, keyring, seen):
    jwks_server.serve_keys(
        public_jwk(keyring.rsa, "dup"),
        public_jwk(keyring.p256, "dup"),
        public_jwk(keyring.ed25519, "c"),
    )
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(UnknownKid):
        jwks.get_key("dup", "RS256")
    assert jwks.health()["kids"] == ["c"]
    (event,) = named(seen, "jwks_key_skipped")
    assert event.fields["kid"] == "dup"
    assert "share" in event.fields["problem"]


def test_a_set_whose_keys_are_all_bad_is_a_failed_fetch_and_cached_keys_keep_serving(
    jwks_server, make_jwks, clock, jwk_a, seen
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    jwks_server.serve_keys(dict(jwk_a, use="enc"))
    clock.advance(301)
    jwks.warm()
    assert failure(seen).reason == "no_usable_keys"
    assert jwks.get_key("a", "RS256").kid == "a"


# --- broken servers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "reasons"),
    [
        (reset, {"connection_error", "protocol_error"}),
        (garbage, {"protocol_error"}),
        (truncated, {"protocol_error", "connection_error"}),
    ],
)
def test_broken_connections_are_a_failed_fetch(raw_server, make_jwks, seen, behaviour, reasons):
    raw_server.behaviour = behaviour
    jwks = make_jwks(raw_server.url())
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert failure(seen).reason in reasons
    assert raw_server.connections == 1


async def test_async_a_connection_reset_is_a_failed_fetch(raw_server, make_jwks, seen):
    raw_server.behaviour = reset
    jwks = make_jwks(raw_server.url())
    with pytest.raises(KeySourceUnavailable):
        await jwks.aget_key("a", "RS256")
    await jwks.aclose()
    assert failure(seen).reason in {"connection_error", "protocol_error"}


def test_a_refused_connection_is_a_connect_error(make_jwks, seen):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    jwks = make_jwks(f"http://127.0.0.1:{port}/jwks")
    assert jwks.warm() is False
    assert failure(seen).reason == "connect_error"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 502, 503])
def test_error_statuses_are_a_failed_fetch(jwks_server, make_jwks, jwk_a, seen, status):
    jwks_server.serve_keys(jwk_a, status=status)
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    event = failure(seen)
    assert event.reason == "http_status"
    assert event.fields["error"] == f"HTTP {status}"


def trickle(jwk):
    """A body sent 1 byte every 5 ms: each read is quick, the whole is slow."""
    body = json.dumps({"keys": [jwk]}).encode()
    done = threading.Event()

    def chunks():
        for i in range(len(body)):
            if done.wait(0.005):
                return
            yield body[i : i + 1]

    return chunks, done


def test_a_body_that_trickles_in_is_cut_off_by_the_total_time_budget(
    jwks_server, make_jwks, jwk_a, seen
):
    chunks, done = trickle(jwk_a)
    jwks_server.handle(lambda request: Response(chunks(), content_type=JSON))
    jwks = make_jwks(jwks_server.url(), timeout=0.1)
    assert jwks.warm() is False
    done.set()
    assert failure(seen).reason == "timeout"


async def test_async_a_body_that_trickles_in_is_cut_off_by_the_total_time_budget(
    jwks_server, make_jwks, jwk_a, seen
):
    chunks, done = trickle(jwk_a)
    jwks_server.handle(lambda request: Response(chunks(), content_type=JSON))
    jwks = make_jwks(jwks_server.url(), timeout=0.1)
    assert await jwks.awarm() is False
    done.set()
    await jwks.aclose()
    assert failure(seen).reason == "timeout"
