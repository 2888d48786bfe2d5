"""Security events: logged with structured fields, passed to hooks, never leaking a token."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest

from jwt_guard_core import SecurityEvent, StaticKeySet, TokenError, VerificationKey, subscribe
from jwt_guard_core import unsubscribe as unsubscribe_hook
from jwt_guard_core.events import emit
from tests.factories import NOW, claims, sign

SECURITY = "jwt_guard.security"
_STANDARD = frozenset(vars(logging.makeLogRecord({})))


@pytest.fixture
def received() -> Iterator[list[SecurityEvent]]:
    events: list[SecurityEvent] = []
    unsubscribe = subscribe(events.append)
    yield events
    unsubscribe()


@pytest.fixture
def security_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="jwt_guard")
    return caplog


def security_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == SECURITY]


def rsa_token(keyring: Any, header: dict[str, Any] | None = None, **overrides: Any) -> str:
    return sign(
        {"alg": "RS256", "kid": "rsa-1", **(header or {})}, claims(**overrides), keyring.rsa
    )


# -- subscribe / unsubscribe


def test_subscribed_hook_receives_every_event(received):
    first = emit("jwks_fetch_failed", level=logging.WARNING, url="https://idp.example/jwks")
    second = emit("token_rejected", reason="token_expired", alg="RS256")
    assert received == [first, second]
    assert received[0].name == "jwks_fetch_failed"
    assert received[0].level == logging.WARNING
    assert received[0].fields == {"url": "https://idp.example/jwks"}
    assert received[1].reason == "token_expired"


def test_the_returned_function_unsubscribes():
    events: list[SecurityEvent] = []
    unsubscribe = subscribe(events.append)
    emit("one")
    unsubscribe()
    emit("two")
    assert [e.name for e in events] == ["one"]
    unsubscribe()  # a second call is harmless


def test_unsubscribe_by_hook_stops_delivery():
    events: list[SecurityEvent] = []

    def hook(event: SecurityEvent) -> None:
        events.append(event)

    subscribe(hook)
    emit("one")
    unsubscribe_hook(hook)
    emit("two")
    assert [e.name for e in events] == ["one"]


def test_unsubscribing_an_unknown_hook_is_ignored():
    unsubscribe_hook(lambda event: None)


def test_a_bound_method_can_be_unsubscribed():
    class Sink:
        def __init__(self) -> None:
            self.names: list[str] = []

        def handle(self, event: SecurityEvent) -> None:
            self.names.append(event.name)

    sink = Sink()
    subscribe(sink.handle)
    emit("one")
    unsubscribe_hook(sink.handle)
    emit("two")
    assert sink.names == ["one"]


def test_subscribing_the_same_hook_twice_delivers_once():
    events: list[SecurityEvent] = []
    subscribe(events.append)
    unsubscribe = subscribe(events.append)
    emit("one")
    unsubscribe()
    emit("two")
    assert [e.name for e in events] == ["one"]


def test_hooks_are_called_in_subscription_order():
    calls: list[str] = []
    hooks = [lambda e, n=n: calls.append(n) for n in ("a", "b", "c")]
    for hook in hooks:
        subscribe(hook)
    try:
        emit("x")
    finally:
        for hook in hooks:
            unsubscribe_hook(hook)
    assert calls == ["a", "b", "c"]


def test_concurrent_subscriptions_are_all_kept():
    events: list[str] = []
    lock = threading.Lock()

    def make(n: int) -> Any:
        def hook(event: SecurityEvent) -> None:
            with lock:
                events.append(f"{n}")

        return hook

    hooks = [make(n) for n in range(50)]
    threads = [threading.Thread(target=subscribe, args=(h,)) for h in hooks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        emit("x")
    finally:
        for hook in hooks:
            unsubscribe_hook(hook)
    assert sorted(events, key=int) == [str(n) for n in range(50)]


def test_event_fields_are_read_only_and_drop_none(received):
    event = emit("x", kid="k1", jti=None)
    assert event.fields == {"kid": "k1"}
    assert isinstance(event.fields, MappingProxyType)
    with pytest.raises(TypeError):
        event.fields["kid"] = "other"  # type: ignore[index]


# -- hooks that fail


def test_hook_exception_is_swallowed_and_logged(security_log, received):
    def broken(event: SecurityEvent) -> None:
        raise RuntimeError("hook bug")

    subscribe(broken)
    try:
        event = emit("x", reason="token_expired")
    finally:
        unsubscribe_hook(broken)
    assert received == [event]  # hooks after the broken one still ran
    failures = [r for r in security_log.records if r.levelno == logging.ERROR]
    assert len(failures) == 1
    assert "hook" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_hook_exception_never_changes_a_verification_result(make_verifier, keyring, mode):
    def broken(event: SecurityEvent) -> None:
        raise ValueError("hook bug")

    verifier = make_verifier()

    def run(token: str) -> Any:
        if mode == "sync":
            return verifier.verify(token)
        return asyncio.run(verifier.averify(token))

    subscribe(broken)
    try:
        with pytest.raises(TokenError) as info:
            run(rsa_token(keyring, exp=int(NOW) - 3600))
        assert info.value.reason == "token_expired"
        assert run(rsa_token(keyring)).subject == "user-1"
    finally:
        unsubscribe_hook(broken)


def test_hooks_run_even_when_the_logger_is_silent(caplog, received):
    caplog.set_level(logging.CRITICAL, logger=SECURITY)
    emit("x", level=logging.INFO)
    assert [e.name for e in received] == ["x"]
    assert security_records(caplog) == []


# -- log records


def test_rejection_is_logged_with_structured_extra_fields(
    security_log, received, make_verifier, keyring
):
    token = rsa_token(keyring, aud="https://evil.example", jti="jti-77")
    with pytest.raises(TokenError):
        make_verifier().verify(token)
    (record,) = security_records(security_log)
    assert record.levelno == logging.INFO
    assert record.jwt_guard_event == "token_rejected"
    assert record.reason == "bad_audience"
    assert record.alg == "RS256"
    assert record.kid == "rsa-1"
    assert record.iss == "https://issuer.example"
    assert record.jti == "jti-77"
    assert record.status == 401
    assert "bad_audience" in record.getMessage()
    (event,) = received
    assert event.name == "token_rejected"
    assert event.reason == "bad_audience"
    assert dict(event.fields) == {
        "alg": "RS256",
        "kid": "rsa-1",
        "iss": "https://issuer.example",
        "jti": "jti-77",
        "status": 401,
    }


@pytest.mark.parametrize(
    ("make", "reason", "level"),
    [
        (lambda kr: rsa_token(kr, exp=int(NOW) - 3600), "token_expired", logging.INFO),
        (lambda kr: rsa_token(kr, {"kid": "nope"}), "unknown_kid", logging.INFO),
        (
            lambda kr: sign({"alg": "HS256"}, claims(), kr.secret),
            "alg_not_allowed",
            logging.WARNING,
        ),
        (lambda kr: rsa_token(kr)[:-4] + "AAAA", "bad_signature", logging.WARNING),
        (
            lambda kr: rsa_token(kr, {"jku": "https://evil.example/jwks"}),
            "embedded_key",
            logging.WARNING,
        ),
        (lambda kr: "not-a-token", "malformed", logging.WARNING),
    ],
)
def test_likely_attacks_are_logged_at_warning_and_stale_tokens_at_info(
    security_log, make_verifier, keyring, make, reason, level
):
    with pytest.raises(TokenError):
        make_verifier().verify(make(keyring))
    (record,) = security_records(security_log)
    assert record.reason == reason
    assert record.levelno == level


def test_hmac_against_a_public_key_configuration_says_so(security_log, make_verifier, keyring):
    with pytest.raises(TokenError):
        make_verifier().verify(sign({"alg": "HS256", "kid": "rsa-1"}, claims(), keyring.secret))
    (record,) = security_records(security_log)
    assert record.levelno == logging.WARNING
    assert "HMAC against a public-key configuration" in record.getMessage()


def test_fields_named_like_log_record_attributes_are_prefixed(security_log):
    emit("x", name="event-name", msg="a message", module="m", process=1)
    (record,) = security_records(security_log)
    assert record.jwt_name == "event-name"
    assert record.jwt_msg == "a message"
    assert record.jwt_module == "m"
    assert record.jwt_process == 1
    assert record.name == SECURITY


def test_long_or_odd_header_values_are_logged_short_and_escaped(
    security_log, make_verifier, keyring
):
    kid = "k" * 200 + "\n\x1b[31m"
    with pytest.raises(TokenError):
        make_verifier().verify(rsa_token(keyring, {"kid": kid[:250]}))
    (record,) = security_records(security_log)
    assert len(record.kid) <= 131
    assert "\n" not in record.kid


# -- no token in any log record


class FailingKeys:
    """A key source with a bug: every lookup raises."""

    allows_hmac = False

    def get_key(self, kid: str | None, alg: str) -> VerificationKey:
        raise RuntimeError(f"lookup of {kid} failed")

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        return self.get_key(kid, alg)


def _record_texts(record: logging.LogRecord, formatter: logging.Formatter) -> list[str]:
    texts = [record.getMessage(), repr(vars(record))]
    if record.exc_info:
        texts.append(formatter.formatException(record.exc_info))
    return texts


def test_no_log_record_ever_contains_the_token(security_log, make_verifier, keyring, rsa_keys):
    def broken(event: SecurityEvent) -> None:
        raise RuntimeError("hook bug")

    base = {"alg": "RS256", "kid": "rsa-1"}
    tokens = {
        "valid": rsa_token(keyring),
        "expired": rsa_token(keyring, exp=int(NOW) - 3600),
        "bad_signature": rsa_token(keyring)[:-6] + "AAAAAA",
        "bad_audience": rsa_token(keyring, aud="https://evil.example"),
        "bad_issuer": rsa_token(keyring, iss="https://evil.example"),
        "unknown_kid": rsa_token(keyring, {"kid": "other"}),
        "alg_none": sign(base, claims(), keyring.rsa).split(".")[0] + ".eyJzdWIiOiJ4In0.",
        "hs256": sign({"alg": "HS256", "kid": "rsa-1"}, claims(), keyring.secret),
        "embedded_jwk": rsa_token(keyring, {"jwk": {"kty": "RSA"}}),
        "missing_sub": rsa_token(keyring, sub=None),
        "garbage": "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2lnbmF0dXJl",
    }
    subscribe(broken)
    try:
        for token in tokens.values():
            for verifier in (make_verifier(), make_verifier(keys=FailingKeys())):
                with contextlib.suppress(TokenError):
                    verifier.verify(token)
                with contextlib.suppress(TokenError):
                    asyncio.run(verifier.averify(token))
    finally:
        unsubscribe_hook(broken)

    records = [r for r in security_log.records if r.name.startswith("jwt_guard")]
    assert any(r.name == "jwt_guard.verifier" for r in records)  # the internal-error path ran
    assert any(r.levelno == logging.ERROR and "hook" in r.getMessage() for r in records)
    formatter = logging.Formatter()
    needles = set()
    for token in tokens.values():
        needles.add(token)
        needles.update(seg for seg in token.split(".") if len(seg) >= 12)
    for record in records:
        for text in _record_texts(record, formatter):
            for needle in needles:
                assert needle not in text, (record.name, record.getMessage())
    assert all(n not in security_log.text for n in needles)


def test_extra_field_names_are_stable(security_log, make_verifier, keyring):
    with pytest.raises(TokenError):
        make_verifier().verify(rsa_token(keyring, exp=int(NOW) - 3600))
    (record,) = security_records(security_log)
    extras = set(vars(record)) - _STANDARD
    assert {"jwt_guard_event", "reason", "alg", "kid", "iss", "jti", "status"} <= extras


def test_key_source_events_reach_hooks(received, keyring):
    from cryptography.hazmat.primitives.asymmetric import ec

    from jwt_guard_core.encoding import b64url_encode

    numbers = keyring.p256.private_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "kid": "ec-1",
        "x": b64url_encode(numbers.public_numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.public_numbers.y.to_bytes(32, "big")),
        "d": b64url_encode(numbers.private_value.to_bytes(32, "big")),
    }
    assert isinstance(keyring.p256, ec.EllipticCurvePrivateKey)
    StaticKeySet.from_jwks({"keys": [jwk]}, private_members="strip")
    (event,) = received
    assert event.name == "private_key_members_stripped"
    assert event.level == logging.WARNING
    assert event.fields["kid"] == "ec-1"
    assert jwk["d"] not in repr(event)


def test_hmac_size_mismatch_in_an_hmac_configuration_is_not_called_confusion(
    security_log, make_verifier, keyring
):
    keys = StaticKeySet.from_secret(keyring.secret, algorithm="HS256", kid="h1")
    verifier = make_verifier(keys=keys, algorithms=["HS256", "HS384"])
    with pytest.raises(TokenError) as info:
        verifier.verify(sign({"alg": "HS384", "kid": "h1"}, claims(), keyring.secret))
    assert info.value.reason == "alg_not_allowed"
    (record,) = security_records(security_log)
    assert "public-key configuration" not in record.getMessage()
