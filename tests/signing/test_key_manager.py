"""KeyManager: key lifecycle, scheduled and emergency rotation, JWKS, events, settings."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from jwt_guard_core import ConfigurationError, GuardConfig, KeySource, UnknownKid, Verifier
from jwt_guard_core.encoding import b64url_decode
from jwt_guard_core.signing import KeyManager, TokenIssuer
from tests.factories import named
from tests.signing.conftest import AUDIENCE, ISSUER


def _kids(manager: KeyManager) -> list[str]:
    return [k["kid"] for k in manager.jwks()["keys"]]


def _states(manager: KeyManager) -> dict[str, str]:
    return {k.kid: k.state for k in manager.list_keys()}


# -- first key and manual rotation


def test_an_empty_store_gets_one_active_key_on_first_use(manager, recorded_events, clock):
    assert manager.list_keys() == ()
    info = manager.active_key()
    assert info.state == "active"
    assert info.algorithm == "ES256"
    assert info.created_at == info.activated_at == clock()
    assert _kids(manager) == [info.kid]
    (event,) = named(recorded_events, "key_created")
    assert event.fields["kid"] == info.kid


def test_kid_is_the_rfc7638_thumbprint_of_the_public_key(manager):
    import hashlib
    import json

    jwk = manager.jwks()["keys"][0]
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    assert b64url_decode(jwk["kid"]) == digest.digest()


def test_rotate_makes_a_new_active_key_and_keeps_the_old_one_published(
    manager, recorded_events, clock
):
    old = manager.active_key().kid
    clock.advance(60)
    new = manager.rotate()
    assert new.kid != old
    assert new.activated_at == clock()
    assert manager.active_key().kid == new.kid
    assert _states(manager) == {new.kid: "active", old: "retired"}
    assert _kids(manager) == [new.kid, old]
    (event,) = named(recorded_events, "key_rotated")
    assert event.fields == {"kid": new.kid, "previous_kid": old, "scheduled": False}


def test_rotate_on_an_empty_store_creates_the_active_key(manager):
    info = manager.rotate()
    assert _states(manager) == {info.kid: "active"}


def test_retired_key_stays_published_for_max_token_lifetime_plus_grace(
    make_manager, recorded_events, clock
):
    manager = make_manager(max_token_lifetime=900, grace_period=300)
    assert manager.retention == 1200
    old = manager.active_key().kid
    new = manager.rotate().kid
    clock.advance(1199)
    assert _kids(manager) == [new, old]
    clock.advance(1)
    assert _kids(manager) == [new]
    # Gone from the JWKS at once; removed from the store by the maintenance.
    assert old in _states(manager)
    outcome = manager.maybe_rotate()
    assert outcome.dropped == (old,)
    assert _states(manager) == {new: "active"}
    (event,) = named(recorded_events, "key_retired_dropped")
    assert event.fields["kid"] == old


def test_rotate_drops_retired_keys_past_their_retention(manager, clock, recorded_events):
    first = manager.active_key().kid
    second = manager.rotate().kid
    clock.advance(manager.retention)
    third = manager.rotate().kid
    assert _states(manager) == {third: "active", second: "retired"}
    assert [e.fields["kid"] for e in named(recorded_events, "key_retired_dropped")] == [first]


# -- scheduled rotation


def test_maybe_rotate_does_nothing_before_the_successor_is_due(manager, clock, recorded_events):
    manager.active_key()
    clock.advance(manager.rotation_interval - 2 * manager.jwks_max_age - 1)
    outcome = manager.maybe_rotate()
    assert not outcome
    assert len(manager.list_keys()) == 1
    assert not named(recorded_events, "key_published")


def test_scheduled_rotation_publishes_the_successor_before_it_signs(
    manager, clock, recorded_events
):
    old = manager.active_key().kid
    clock.advance(manager.rotation_interval - 2 * manager.jwks_max_age)
    outcome = manager.maybe_rotate()
    assert outcome.published is not None
    successor = outcome.published
    assert _states(manager) == {old: "active", successor: "next"}
    assert _kids(manager) == [old, successor]
    assert manager.active_key().kid == old

    clock.advance(2 * manager.jwks_max_age - 1)
    assert not manager.maybe_rotate()
    clock.advance(1)
    outcome = manager.maybe_rotate()
    assert (outcome.activated, outcome.retired) == (successor, old)
    assert _states(manager) == {successor: "active", old: "retired"}
    (event,) = named(recorded_events, "key_rotated")
    assert event.fields == {"kid": successor, "previous_kid": old, "scheduled": True}
    assert len(named(recorded_events, "key_published")) == 1


def test_a_late_successor_signs_only_after_it_was_published_for_jwks_max_age(manager, clock):
    old = manager.active_key().kid
    clock.advance(manager.rotation_interval + 3600)
    successor = manager.maybe_rotate().published
    assert successor is not None
    assert manager.active_key().kid == old
    clock.advance(manager.jwks_max_age)
    assert manager.maybe_rotate().activated == successor


def test_rotate_activates_a_published_successor(manager, clock):
    manager.active_key()
    clock.advance(manager.rotation_interval - 2 * manager.jwks_max_age)
    successor = manager.maybe_rotate().published
    assert manager.rotate().kid == successor


def test_signing_runs_the_schedule_when_auto_rotate_is_on(manager, issuer, clock, recorded_events):
    old = manager.active_key().kid
    clock.advance(manager.rotation_interval - 2 * manager.jwks_max_age)
    issuer.issue_access_token("user-1")
    assert len(named(recorded_events, "key_published")) == 1
    clock.advance(2 * manager.jwks_max_age)
    issuer.issue_access_token("user-1")
    assert manager.active_key().kid != old
    assert len(named(recorded_events, "key_rotated")) == 1


def test_signing_never_rotates_when_auto_rotate_is_off(make_manager, clock):
    manager = make_manager(auto_rotate=False)
    old = manager.active_key().kid
    clock.advance(manager.rotation_interval * 3)
    TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-1")
    assert manager.active_key().kid == old
    assert manager.maybe_rotate().published is not None


def test_a_changed_algorithm_takes_effect_at_the_next_rotation(file_store, make_manager):
    es = make_manager(algorithm="ES256")
    es.active_key()
    ed = make_manager(algorithm="EdDSA")
    assert ed.active_key().algorithm == "ES256"
    assert ed.rotate().algorithm == "EdDSA"
    assert [k["alg"] for k in ed.jwks()["keys"]] == ["EdDSA", "ES256"]


# -- emergency rotation


def test_emergency_rotate_removes_every_old_key_and_records_the_epoch(
    make_manager, clock, recorded_events, caplog
):
    # Short schedule: retired keys are still within retention when the
    # successor is published.
    manager = make_manager(rotation_interval=7200)
    first = manager.active_key().kid
    second = manager.rotate().kid
    clock.advance(60)
    successor = manager.rotate().kid
    clock.advance(manager.rotation_interval - 2 * manager.jwks_max_age)
    after_next = manager.maybe_rotate().published
    assert _states(manager) == {
        first: "retired",
        second: "retired",
        successor: "active",
        after_next: "next",
    }
    assert manager.emergency_epoch is None
    clock.advance(0.5)
    caplog.set_level(logging.INFO, logger="jwt_guard")
    new = manager.emergency_rotate(reason="key_leaked")
    assert _states(manager) == {new.kid: "active"}
    assert _kids(manager) == [new.kid]
    assert manager.emergency_epoch == manager.revoked_before == int(clock())
    (event,) = named(recorded_events, "key_emergency_rotated")
    assert event.level == logging.CRITICAL
    assert event.reason == "key_leaked"
    assert event.fields["kid"] == new.kid
    assert set(event.fields["removed_kids"].split(",")) == {first, second, successor, after_next}
    assert event.fields["emergency_epoch"] == int(clock())
    assert any(
        r.levelno == logging.CRITICAL and getattr(r, "jwt_guard_event", None) == event.name
        for r in caplog.records
    )


def test_emergency_epoch_never_moves_backwards(manager, clock):
    manager.emergency_rotate()
    epoch = manager.emergency_epoch
    clock.advance(-100)
    manager.emergency_rotate()
    assert manager.emergency_epoch == epoch


# -- JWKS


@pytest.mark.parametrize(
    ("alg", "kty", "members"),
    [
        ("ES256", "EC", {"crv": "P-256"}),
        ("ES384", "EC", {"crv": "P-384"}),
        ("RS256", "RSA", {"e": "AQAB"}),
        ("PS256", "RSA", {"e": "AQAB"}),
        ("EdDSA", "OKP", {"crv": "Ed25519"}),
    ],
)
def test_jwks_publishes_kid_kty_alg_and_use_sig_only(make_manager, alg, kty, members):
    manager = make_manager(algorithm=alg)
    manager.active_key()
    (jwk,) = manager.jwks()["keys"]
    assert jwk["kty"] == kty
    assert jwk["alg"] == alg
    assert jwk["use"] == "sig"
    assert jwk["kid"] == manager.active_key().kid
    for name, value in members.items():
        assert jwk[name] == value
    public_members = {"kid", "kty", "alg", "use", "crv", "x", "y", "n", "e"}
    assert set(jwk) <= public_members
    if kty == "RSA":
        assert len(b64url_decode(jwk["n"])) * 8 == 3072


def test_jwks_returns_a_fresh_document_each_time(manager):
    doc = manager.jwks()
    doc["keys"][0]["kid"] = "changed"
    doc["keys"].clear()
    assert manager.jwks()["keys"][0]["kid"] == manager.active_key().kid


def test_jwks_cache_control_uses_the_configured_max_age(make_manager):
    assert make_manager().jwks_cache_control() == "public, max-age=600"
    manager = make_manager(jwks_max_age=120)
    assert manager.jwks_cache_control() == "public, max-age=120"
    assert manager.jwks_max_age == 120


def test_hmac_keys_are_never_published(make_manager):
    manager = make_manager(algorithm="HS256", allow_hmac=True)
    assert manager.active_key().algorithm == "HS256"
    assert manager.jwks() == {"keys": []}
    assert manager.allows_hmac is True


# -- the manager as a key source


def test_manager_is_a_key_source_for_its_own_tokens(manager, issuer, clock):
    assert isinstance(manager, KeySource)
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256"], keys=manager, issuer=ISSUER, audience=AUDIENCE, clock=clock
        )
    )
    token = issuer.issue_access_token("user-1")
    manager.rotate()
    assert verifier.verify(token).subject == "user-1"
    manager.emergency_rotate()
    with pytest.raises(UnknownKid) as info:
        verifier.verify(token)
    assert info.value.reason == "unknown_kid"


async def test_manager_key_lookup_works_from_async_code(manager, issuer, clock):
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256"], keys=manager, issuer=ISSUER, audience=AUDIENCE, clock=clock
        )
    )
    token = issuer.issue_access_token("user-1")
    assert (await verifier.averify(token)).kid == manager.active_key().kid


def test_a_kid_the_manager_never_had_is_unknown_kid(manager):
    manager.active_key()
    with pytest.raises(UnknownKid) as info:
        manager.get_key("not-a-kid-of-ours", "ES256")
    assert info.value.reason == "unknown_kid"
    assert info.value.status == 401


# -- settings


def test_hmac_needs_allow_hmac(make_manager):
    with pytest.raises(ConfigurationError) as info:
        make_manager(algorithm="HS256")
    assert info.value.setting == "algorithm"
    assert "allow_hmac=True" in str(info.value)


@pytest.mark.parametrize("alg", ["none", "RS384", "PS512", "HS1", "", "Ed448"])
def test_unknown_or_unsupported_signing_algorithm_is_refused(make_manager, alg):
    with pytest.raises(ConfigurationError) as info:
        make_manager(algorithm=alg)
    assert info.value.setting == "algorithm"
    assert "ES256" in str(info.value)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("rotation_interval", 0),
        ("rotation_interval", 59),
        ("rotation_interval", "30d"),
        ("max_token_lifetime", 0),
        ("grace_period", -1),
        ("grace_period", float("nan")),
        ("grace_period", float("inf")),
        ("jwks_max_age", -1),
        ("jwks_max_age", 1.5),
        ("jwks_max_age", True),
        ("publish_ahead", 10),
        ("publish_ahead", 40 * 86400),
        ("clock", "now"),
    ],
)
def test_bad_manager_settings_are_refused_with_the_setting_named(make_manager, setting, value):
    with pytest.raises(ConfigurationError) as info:
        make_manager(**{setting: value})
    assert info.value.setting == setting


def test_durations_may_be_given_as_timedelta(make_manager):
    manager = make_manager(
        rotation_interval=timedelta(days=7),
        max_token_lifetime=timedelta(minutes=30),
        grace_period=timedelta(minutes=5),
    )
    assert manager.rotation_interval == 7 * 86400
    assert manager.retention == 35 * 60


def test_a_store_that_is_not_a_key_store_is_refused(clock):
    with pytest.raises(ConfigurationError) as info:
        KeyManager(object(), clock=clock)  # type: ignore[arg-type]
    assert info.value.setting == "store"


def test_algorithm_none_keeps_the_algorithm_of_the_stored_keys(make_manager):
    configured = make_manager(algorithm="EdDSA")
    configured.active_key()
    tool = make_manager(algorithm=None)  # e.g. `jwt-guard rotate --store DIR`
    assert tool.algorithm == "EdDSA"
    assert tool.rotate().algorithm == "EdDSA"
    assert tool.emergency_rotate().algorithm == "EdDSA"


def test_algorithm_none_on_an_empty_store_is_es256(make_manager):
    assert make_manager(algorithm=None).active_key().algorithm == "ES256"


def test_algorithm_none_rotates_hmac_keys_only_with_allow_hmac(make_manager):
    make_manager(algorithm="HS256", allow_hmac=True).active_key()
    tool = make_manager(algorithm=None)
    assert tool.jwks() == {"keys": []}
    with pytest.raises(ConfigurationError) as info:
        tool.rotate()
    assert info.value.setting == "algorithm"
    assert "allow_hmac=True" in str(info.value)
    assert make_manager(algorithm=None, allow_hmac=True).rotate().algorithm == "HS256"


def test_a_manager_with_a_shorter_retention_never_unpublishes_a_key_early(make_manager, clock):
    app = make_manager(max_token_lifetime=4 * 3600, grace_period=3600)
    first = app.active_key().kid
    second = app.rotate().kid
    tool = make_manager(algorithm=None)  # defaults: retention 2 hours
    assert tool.retention == 2 * 3600
    clock.advance(3 * 3600)
    third = tool.rotate().kid
    assert _kids(tool) == [third, second, first]
    clock.advance(2 * 3600 - 1)
    assert first in _kids(tool)
    clock.advance(1)
    assert tool.maybe_rotate().dropped == (first,)
    assert _kids(app) == [third, second]
