"""The decisions of one fetch, driven by hand: no socket, time injected.

``Exchange`` is what both transports obey; these tests feed it heads, bytes
and errors directly, so each decision is checked on its own (the loopback
tests in the other ``test_remote_*`` files check the same through real HTTP).
"""

from __future__ import annotations

import gzip
import json

import pytest

from jwt_guard_core._remote_decode import BoundedDecoder
from jwt_guard_core._remote_exchange import Exchange, Step
from jwt_guard_core._remote_policy import FetchError

URL = "https://idp.example/jwks"
JSON_HEAD = {"content-type": "application/json"}


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def exchange(monotonic: Monotonic, *, etag: str | None = None, timeout: float = 5.0) -> Exchange:
    return Exchange(
        URL,
        etag=etag,
        accept="application/json",
        timeout=timeout,
        max_bytes=4096,
        allow_http=False,
        monotonic=monotonic,
    )


def test_each_request_gets_what_is_left_of_the_budget_and_none_is_sent_after_it():
    clock = Monotonic()
    ex = exchange(clock)
    assert ex.next_request().remaining == 5.0
    clock.now += 2
    assert ex.receive_head(302, {"location": "/v2"}) is Step.REDIRECT
    request = ex.next_request()
    assert (request.url, request.remaining) == ("https://idp.example/v2", 3.0)
    clock.now += 3
    with pytest.raises(FetchError) as info:
        ex.next_request()
    assert info.value.reason == "timeout"


def test_requests_ask_only_for_codings_that_are_decoded_and_carry_the_validator():
    headers = exchange(Monotonic(), etag='"v1"').next_request().headers
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert headers["If-None-Match"] == '"v1"'


def test_a_fourth_redirect_is_not_followed():
    ex = exchange(Monotonic())
    for _ in range(4):
        ex.next_request()
        assert ex.receive_head(307, {"location": "/again"}) is Step.REDIRECT
    with pytest.raises(FetchError) as info:
        ex.next_request()
    assert info.value.reason == "too_many_redirects"


def test_a_redirect_to_another_origin_is_refused():
    ex = exchange(Monotonic())
    ex.next_request()
    with pytest.raises(FetchError) as info:
        ex.receive_head(301, {"location": "https://evil.example/jwks"})
    assert info.value.reason == "redirect_refused"


def test_a_304_is_the_result_only_of_a_conditional_request():
    conditional = exchange(Monotonic(), etag='"v1"')
    conditional.next_request()
    assert conditional.receive_head(304, {"etag": '"v1"'}) is Step.DONE
    assert conditional.result().status == 304
    unconditional = exchange(Monotonic())
    unconditional.next_request()
    with pytest.raises(FetchError) as info:
        unconditional.receive_head(304, {})
    assert info.value.reason == "http_status"


def test_a_declared_length_over_the_cap_is_refused_before_the_body():
    ex = exchange(Monotonic())
    ex.next_request()
    with pytest.raises(FetchError) as info:
        ex.receive_head(200, {**JSON_HEAD, "content-length": "4097"})
    assert info.value.reason == "too_large"


def test_body_bytes_arriving_after_the_deadline_are_a_timeout():
    clock = Monotonic()
    ex = exchange(clock, timeout=1.0)
    ex.next_request()
    assert ex.receive_head(200, JSON_HEAD) is Step.BODY
    ex.receive_data(b'{"keys"')
    clock.now += 1.5
    with pytest.raises(FetchError) as info:
        ex.receive_data(b": []}")
    assert info.value.reason == "timeout"


def test_a_network_error_after_the_deadline_is_the_deadline_and_before_it_is_itself():
    clock = Monotonic()
    ex = exchange(clock, timeout=1.0)
    ex.next_request()
    reset = FetchError("connection_error", "reset")
    assert ex.failed(reset, in_transport=True).reason == "connection_error"
    assert reset.url == URL
    clock.now += 1
    cut = ex.failed(FetchError("protocol_error", "closed"), in_transport=True)
    assert cut.reason == "timeout"
    # An error the exchange itself decided keeps its reason.
    assert ex.failed(FetchError("too_large", "big")).reason == "too_large"


def test_stacked_codings_decode_the_same_whatever_the_chunking():
    document = json.dumps({"keys": [], "pad": "x" * 200_000}).encode()
    wire = gzip.compress(gzip.compress(document))
    for size in (1, 7, 4096, len(wire)):
        decoder = BoundedDecoder("gzip, gzip", 300_000)
        for start in range(0, len(wire), size):
            decoder.feed(wire[start : start + size])
        assert decoder.finish() == document
