"""Start-up findings about remote key sets (issue 13), against real servers on loopback.

A wrong-issuer discovery document, an issuer whose tokens the settings
would refuse, a JWKS URL that answers 404 and a port nobody listens on are
reported naming the setting; a good provider gives no finding, and the keys
fetched for the check serve the first request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jwt_guard_core import Verifier
from jwt_guard_core.settings import GuardSettings
from jwt_guard_core.startup import (
    KeySetProbe,
    key_set_finding,
    key_set_findings,
    key_set_probes,
)
from jwt_guard_core.testing import LocalIssuer
from tests import startup_support
from tests.startup_support import serve_discovery

pytest_plugins = ["tests.core.remote_fixtures"]

AUDIENCE = "https://api.example.test"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as local:
        yield local


@pytest.fixture
def closed_port() -> int:
    return startup_support.closed_port()


def run(raw: dict[str, Any], adapter: str = "django") -> list[Any]:
    settings = GuardSettings.from_mapping(raw, adapter)  # type: ignore[arg-type]
    return key_set_findings(settings, settings.guard_config())


def base(**extra: Any) -> dict[str, Any]:
    return {"ALGORITHMS": ["ES256"], "AUDIENCE": AUDIENCE, **extra}


def test_a_good_provider_gives_no_finding_by_jwks_url_or_discovery(issuer):
    assert run(issuer.django_settings()) == []
    assert run(issuer.django_settings(source="discovery")) == []
    assert run(base(OIDC_ISSUER=issuer.url)) == []


def test_the_keys_fetched_by_the_check_serve_the_first_request(issuer):
    settings = GuardSettings.from_mapping(issuer.django_settings(), "django")
    verifier = Verifier(settings.guard_config())
    assert key_set_findings(settings, verifier.config) == []
    assert issuer.jwks_requests == 1
    token = issuer.tokens().token(sub="alice")
    assert verifier.verify(token).claims["sub"] == "alice"
    assert issuer.jwks_requests == 1


def test_a_discovery_document_for_another_issuer_is_an_error_naming_the_setting(
    jwks_server, issuer
):
    serve_discovery(jwks_server.http, issuer.jwks())
    [finding] = run(base(OIDC_ISSUER=jwks_server.origin))
    assert finding.code == "discovery_issuer_mismatch"
    assert finding.error is True
    assert finding.message.startswith(f"JWT_GUARD['OIDC_ISSUER'] ({jwks_server.origin!r}): ")
    assert "'https://evil.example'" in finding.message
    assert f"not the configured {jwks_server.origin!r}" in finding.message
    assert "503" in finding.message
    assert "exactly as the provider writes 'issuer'" in finding.hint
    assert jwks_server.count("/keys") == 0


def test_flask_names_its_own_key(jwks_server, issuer):
    serve_discovery(jwks_server.http, issuer.jwks())
    [finding] = run(
        {
            "JWT_GUARD_ALGORITHMS": ["ES256"],
            "JWT_GUARD_AUDIENCE": AUDIENCE,
            "JWT_GUARD_OIDC_ISSUER": jwks_server.origin,
        },
        "flask",
    )
    assert finding.code == "discovery_issuer_mismatch"
    assert finding.message.startswith(f"JWT_GUARD_OIDC_ISSUER ({jwks_server.origin!r}): ")


def test_an_issuer_setting_other_than_the_discovered_issuer_is_an_error(issuer):
    # The document matches OIDC_ISSUER, but ISSUER (without the slash) is what
    # tokens are checked against: every token of this provider would be refused.
    [finding] = run(base(ISSUER=issuer.url + "/", OIDC_ISSUER=issuer.url))
    assert finding.code == "discovery_issuer_mismatch"
    assert finding.error is True
    assert finding.message.startswith(
        f"JWT_GUARD['ISSUER'] is {issuer.url + '/'!r}, but the discovery document of "
        f"JWT_GUARD['OIDC_ISSUER'] is for issuer {issuer.url!r}"
    )
    assert "bad_issuer" in finding.message
    assert finding.hint.startswith(f"Set JWT_GUARD['ISSUER'] to {issuer.url!r}")


def test_an_issuer_list_naming_the_discovered_issuer_is_fine(issuer):
    assert run(base(ISSUER=[issuer.url + "/", issuer.url], OIDC_ISSUER=issuer.url)) == []


def test_an_issuer_template_matching_the_multi_tenant_document_is_no_mismatch(jwks_server, issuer):
    template = "https://login.example/{tid}/v2.0"
    serve_discovery(jwks_server.http, issuer.jwks(), issuer="https://login.example/{tenantid}/v2.0")
    raw = base(ISSUER=template, OIDC_ISSUER=jwks_server.origin)
    assert run(raw) == []
    assert jwks_server.count("/keys") == 1


def test_an_issuer_template_with_a_single_tenant_document_is_a_mismatch(jwks_server, issuer):
    template = "https://login.example/{tid}/v2.0"
    serve_discovery(jwks_server.http, issuer.jwks(), issuer="https://login.example/1234/v2.0")
    [finding] = run(base(ISSUER=template, OIDC_ISSUER=jwks_server.origin))
    assert finding.code == "discovery_issuer_mismatch"
    assert "'https://login.example/1234/v2.0'" in finding.message
    assert "'https://login.example/{tenantid}/v2.0'" in finding.message
    assert finding.hint.startswith("JWT_GUARD['ISSUER'] is an issuer template")


def test_an_issuers_entry_is_named_by_its_issuer_and_key(jwks_server, issuer):
    serve_discovery(jwks_server.http, issuer.jwks())
    raw = {
        "ALGORITHMS": ["ES256"],
        "AUDIENCE": AUDIENCE,
        "ISSUERS": {
            issuer.url: {"JWKS_URL": issuer.jwks_url},
            jwks_server.origin: {"OIDC_ISSUER": jwks_server.origin},
        },
    }
    [finding] = run(raw)
    assert finding.code == "discovery_issuer_mismatch"
    assert finding.message.startswith(
        f"JWT_GUARD['ISSUERS'][{jwks_server.origin!r}]['OIDC_ISSUER'] ({jwks_server.origin!r})"
    )


def test_an_unreachable_provider_is_a_warning_naming_the_url_setting(closed_port):
    url = f"http://127.0.0.1:{closed_port}/jwks.json"
    [finding] = run(base(ISSUER="https://issuer.example", JWKS_URL=url))
    assert finding.code == "key_set_unreachable"
    assert finding.error is False
    assert finding.message.startswith(
        f"could not warm the key set of JWT_GUARD['JWKS_URL'] ({url!r}) at start-up: "
        "connect_error: cannot connect"
    )
    assert "503 until a fetch succeeds" in finding.message
    assert url in finding.hint


def test_an_unreachable_issuer_is_a_warning_naming_the_discovery_url(closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    [finding] = run(base(OIDC_ISSUER=url))
    assert finding.code == "key_set_unreachable"
    assert finding.message.startswith("could not warm the key set of JWT_GUARD['OIDC_ISSUER']")
    assert f"(at {url}/.well-known/openid-configuration)" in finding.message


def test_a_provider_answering_503_is_unreachable_not_invalid(jwks_server):
    jwks_server.serve("down", status=503, content_type="text/plain")
    [finding] = run(base(ISSUER="https://issuer.example", JWKS_URL=jwks_server.url()))
    assert finding.code == "key_set_unreachable"
    assert "http_status: HTTP 503" in finding.message


def test_a_jwks_url_answering_404_is_an_error(jwks_server):
    jwks_server.serve("not here", status=404, content_type="text/plain")
    [finding] = run(base(ISSUER="https://issuer.example", JWKS_URL=jwks_server.url()))
    assert finding.code == "key_set_invalid"
    assert finding.error is True
    assert finding.message.startswith(
        f"JWT_GUARD['JWKS_URL'] ({jwks_server.url()!r}) does not give a usable key set: "
        "http_status: HTTP 404"
    )
    assert "must be the provider's JWKS URL" in finding.hint


def test_a_document_that_is_not_a_key_set_is_an_error(jwks_server):
    jwks_server.serve({"hello": "world"})
    [finding] = run(base(ISSUER="https://issuer.example", JWKS_URL=jwks_server.url()))
    assert finding.code == "key_set_invalid"
    assert "bad_jwks" in finding.message


def test_a_key_set_tried_before_is_judged_without_another_request(jwks_server):
    jwks_server.serve("not here", status=404, content_type="text/plain")
    settings = GuardSettings.from_mapping(
        base(ISSUER="https://issuer.example", JWKS_URL=jwks_server.url()), "django"
    )
    config = settings.guard_config()
    assert [f.code for f in key_set_findings(settings, config)] == ["key_set_invalid"]
    assert [f.code for f in key_set_findings(settings, config)] == ["key_set_invalid"]
    assert jwks_server.count() == 1


def test_static_keys_are_not_probed(issuer):
    assert run(issuer.django_settings(source="static")) == []


def test_the_decision_is_plain_data():
    probe = KeySetProbe(setting="JWT_GUARD_JWKS_URL", value="https://idp.example/jwks")
    assert key_set_finding(probe, {"state": "ok"}) is None
    finding = key_set_finding(
        probe,
        {"state": "unavailable", "last_error": "timeout: slow"},
    )
    assert finding is not None
    assert finding.code == "key_set_unreachable"
    assert "(at https://idp.example/jwks)" in finding.message


def test_a_key_set_object_given_as_flask_keys_is_named_by_that_key(jwks_server):
    from jwt_guard_core.remote import RemoteJWKS

    jwks_server.serve("not here", status=404, content_type="text/plain")
    raw = {
        "JWT_GUARD_ALGORITHMS": ["ES256"],
        "JWT_GUARD_AUDIENCE": AUDIENCE,
        "JWT_GUARD_ISSUER": "https://issuer.example",
        "JWT_GUARD_KEYS": RemoteJWKS(jwks_server.url()),
    }
    [finding] = run(raw, "flask")
    assert finding.code == "key_set_invalid"
    assert finding.message.startswith(f"JWT_GUARD_KEYS ({jwks_server.url()!r}) does not give")


def test_provider_presets_are_named_as_such_and_entra_common_is_no_mismatch():
    # Probing is I/O free: the preset's https URLs are never fetched here.
    settings = GuardSettings.from_mapping(
        {"PROVIDER": {"name": "entra", "tenant": "common", "audience": "api://x"}}, "django"
    )
    [(probe, source)] = key_set_probes(settings, settings.guard_config())
    assert probe.setting == "JWT_GUARD['OIDC_ISSUER'] (from JWT_GUARD['PROVIDER'])"
    assert probe.issuer_setting == "JWT_GUARD['ISSUER'] (from JWT_GUARD['PROVIDER'])"
    assert probe.discovery_issuer == "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert probe.issuers == ("https://login.microsoftonline.com/{tid}/v2.0",)
    assert key_set_finding(probe, {"state": "ok"}) is None
    source.close()
