"""Compressed key sets: decoded within the size cap, so a decompression bomb costs no memory.

The bombs are real responses from a loopback server: 64 MiB of JSON
whitespace behind gzip, deflate, or stacked codings, a few hundred bytes to
64 KB on the wire. Peak memory is measured with tracemalloc around the fetch:
httpx's own decoding would inflate a whole network chunk (tens of MiB) at
once; the bounded decoder never holds more than a few slices.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable

import pytest
from werkzeug import Response

from jwt_guard_core import KeySourceUnavailable
from tests.core.remote_servers import JSON, Send, http_response, named

pytest_plugins = ["tests.core.remote_fixtures"]

MiB = 1024 * 1024
# What a fetch may allocate at its peak: the 512 KiB body cap, a few 64 KiB
# slices and httpx's own buffers. A bomb decoded whole would be 64 MiB.
PEAK_LIMIT = 4 * MiB


def deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def raw_deflate(data: bytes) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return z.compress(data) + z.flush()


CODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, 9),
    "x-gzip": lambda data: gzip.compress(data, 9),
    "deflate": deflate,
}


def encode(data: bytes, codings: list[str]) -> bytes:
    """``data`` with each coding applied in order, as Content-Encoding lists them."""
    for coding in codings:
        data = CODERS[coding](data)
    return data


def bomb_document() -> bytes:
    """64 MiB that would be a valid (empty) JWKS if anyone decoded it all."""
    return b'{"keys": [' + b" " * (64 * MiB) + b"]}"


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    document = bomb_document()
    single = {coding: encode(document, [coding]) for coding in CODERS}
    return {
        **single,
        "raw deflate": raw_deflate(document),
        "gzip, gzip": gzip.compress(single["gzip"], 9),
        "deflate, gzip": gzip.compress(single["deflate"], 9),
    }


def serve_encoded(server, body: bytes, content_encoding: str) -> None:
    server.handle(
        lambda request: Response(
            body, content_type=JSON, headers={"Content-Encoding": content_encoding}
        )
    )


def serve_bomb(raw_server, body: bytes, content_encoding: str) -> None:
    # The raw server, not werkzeug: werkzeug reads 10 MB buffers when it
    # closes a connection, which tracemalloc would count against the client.
    raw_server.behaviour = Send(http_response(body, headers={"Content-Encoding": content_encoding}))


def failure(seen):
    (event,) = named(seen, "jwks_fetch_failed")
    return event


def peak_while(action: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- bombs -------------------------------------------------------------------------

BOMBS = [
    ("gzip", "gzip"),
    ("x-gzip", "x-gzip"),
    ("deflate", "deflate"),
    ("raw deflate", "deflate"),
    ("gzip, gzip", "gzip, gzip"),
    ("deflate, gzip", "deflate, gzip"),
]


@pytest.mark.parametrize(("bomb", "content_encoding"), BOMBS)
def test_a_decompression_bomb_is_refused_as_too_large_in_little_memory(
    raw_server, make_jwks, seen, bombs, bomb, content_encoding
):
    assert len(bombs[bomb]) < 100_000
    serve_bomb(raw_server, bombs[bomb], content_encoding)
    jwks = make_jwks(raw_server.url())

    def lookup() -> None:
        with pytest.raises(KeySourceUnavailable) as info:
            jwks.get_key("a", "RS256")
        assert info.value.status == 503

    _, peak = peak_while(lookup)
    assert failure(seen).reason == "too_large"
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize(("bomb", "content_encoding"), [BOMBS[0], BOMBS[4]])
async def test_async_a_decompression_bomb_is_refused_as_too_large_in_little_memory(
    raw_server, make_jwks, seen, bombs, bomb, content_encoding
):
    serve_bomb(raw_server, bombs[bomb], content_encoding)
    jwks = make_jwks(raw_server.url())
    tracemalloc.start()
    try:
        assert await jwks.awarm() is False
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    await jwks.aclose()
    assert failure(seen).reason == "too_large"
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"


def test_a_discovery_document_bomb_is_refused_as_too_large(
    raw_server, make_discovered, seen, bombs
):
    # from_issuer fetches <issuer>/.well-known/openid-configuration first.
    serve_bomb(raw_server, bombs["gzip, gzip"], "gzip, gzip")
    jwks = make_discovered(raw_server.url(""))
    ok, peak = peak_while(jwks.warm)
    assert ok is False
    event = failure(seen)
    assert event.reason == "too_large"
    assert event.fields["url"].endswith("/.well-known/openid-configuration")
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"


def test_every_decoding_stage_is_held_to_the_cap(jwks_server, make_jwks, seen):
    # The outer gzip decodes to 70 KB of inner gzip, over a 64 KiB cap, though
    # the document inside would be tiny: an intermediate stage is refused too.
    inner = gzip.compress(json.dumps({"keys": []}).encode() + bytes(range(256)) * 280, 0)
    assert len(inner) > 64 * 1024
    serve_encoded(jwks_server, gzip.compress(inner, 9), "gzip, gzip")
    jwks = make_jwks(jwks_server.url(), max_bytes=64 * 1024)
    assert jwks.warm() is False
    assert failure(seen).reason == "too_large"


# --- honest compressed responses ---------------------------------------------------


@pytest.mark.parametrize(
    ("encode_body", "content_encoding"),
    [
        (lambda d: gzip.compress(d), "gzip"),
        (lambda d: gzip.compress(d), "x-gzip"),
        (deflate, "deflate"),
        (raw_deflate, "deflate"),
        (lambda d: gzip.compress(gzip.compress(d)), "gzip, gzip"),
        (lambda d: gzip.compress(d), "identity, gzip"),
        (lambda d: d, "identity"),
    ],
)
def test_compressed_key_sets_are_decoded(
    jwks_server, make_jwks, jwk_a, encode_body, content_encoding
):
    serve_encoded(
        jwks_server, encode_body(json.dumps({"keys": [jwk_a]}).encode()), content_encoding
    )
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"


def test_a_compressed_key_set_over_a_slice_is_decoded_whole(jwks_server, make_jwks, jwk_a):
    document = json.dumps({"keys": [jwk_a], "pad": "x" * 300_000}).encode()
    serve_encoded(jwks_server, gzip.compress(gzip.compress(document)), "gzip, gzip")
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"


def test_only_the_codings_that_are_decoded_are_asked_for(jwks_server, make_jwks, jwk_a):
    serve_encoded(jwks_server, gzip.compress(json.dumps({"keys": [jwk_a]}).encode()), "gzip")
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    (request,) = jwks_server.requests()
    assert request.headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize("content_encoding", ["br", "zstd", "compress", "gzip, br", "snappy"])
def test_a_coding_that_was_not_asked_for_is_refused(
    jwks_server, make_jwks, jwk_a, seen, content_encoding
):
    # The body is not even looked at: br would need a decoder we do not
    # have, and whatever httpx could decode is outside the bounded decoder.
    serve_encoded(jwks_server, json.dumps({"keys": [jwk_a]}).encode(), content_encoding)
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert failure(seen).reason == "bad_encoding"


def test_more_than_four_stacked_codings_are_refused(jwks_server, make_jwks, jwk_a, seen):
    body = encode(json.dumps({"keys": [jwk_a]}).encode(), ["gzip"] * 5)
    serve_encoded(jwks_server, body, ", ".join(["gzip"] * 5))
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    assert failure(seen).reason == "bad_encoding"


@pytest.mark.parametrize(
    ("body", "content_encoding"),
    [(b"not gzip at all", "gzip"), (b"\x00\x01 not deflate", "deflate")],
)
def test_a_corrupt_compressed_body_is_a_failed_fetch(
    jwks_server, make_jwks, seen, body, content_encoding
):
    serve_encoded(jwks_server, body, content_encoding)
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    assert failure(seen).reason == "bad_encoding"
