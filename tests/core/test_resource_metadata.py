"""Protected Resource Metadata (RFC 9728): the document, its URL, and validation of its settings."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.dpop import DPoPPolicy
from jwt_guard_core.resource_metadata import ProtectedResourceMetadata, metadata_url


@pytest.mark.parametrize(
    ("resource", "url"),
    [
        ("https://api.example", "https://api.example/.well-known/oauth-protected-resource"),
        ("https://api.example/", "https://api.example/.well-known/oauth-protected-resource"),
        ("https://api.example/v1", "https://api.example/.well-known/oauth-protected-resource/v1"),
        (
            "https://api.example:8443/v1/orders/",
            "https://api.example:8443/.well-known/oauth-protected-resource/v1/orders",
        ),
        ("http://localhost:8000", "http://localhost:8000/.well-known/oauth-protected-resource"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/.well-known/oauth-protected-resource"),
    ],
)
def test_the_metadata_url_puts_the_well_known_segment_before_the_path(resource, url):
    assert metadata_url(resource) == url
    metadata = ProtectedResourceMetadata(resource=resource)
    assert metadata.url == url
    assert metadata.path == urlsplit(url).path


def test_a_minimal_document_names_the_resource_and_the_header_method():
    document = ProtectedResourceMetadata(resource="https://api.example").document()
    assert document == {"resource": "https://api.example", "bearer_methods_supported": ["header"]}


def test_the_document_follows_the_dpop_policy_and_settings():
    metadata = ProtectedResourceMetadata.for_policies(
        resource="https://api.example/v1",
        dpop=DPoPPolicy(mode="required", algorithms=["ES256", "EdDSA"]),
        mtls=True,
        authorization_servers=["https://login.example", "https://idp.example/realms/main"],
        jwks_uri="https://api.example/.well-known/jwks.json",
        scopes_supported=["orders:read", "orders:write"],
        resource_name="Orders API",
        resource_documentation="https://docs.example/orders",
        resource_policy_uri="https://docs.example/policy",
        resource_tos_uri="https://docs.example/tos",
    )
    assert metadata.document() == {
        "resource": "https://api.example/v1",
        "authorization_servers": ["https://login.example", "https://idp.example/realms/main"],
        "jwks_uri": "https://api.example/.well-known/jwks.json",
        "resource_documentation": "https://docs.example/orders",
        "resource_policy_uri": "https://docs.example/policy",
        "resource_tos_uri": "https://docs.example/tos",
        "scopes_supported": ["orders:read", "orders:write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Orders API",
        "tls_client_certificate_bound_access_tokens": True,
        "dpop_signing_alg_values_supported": ["ES256", "EdDSA"],
        "dpop_bound_access_tokens_required": True,
    }


@pytest.mark.parametrize(("mode", "required"), [("allowed", False), ("off", None)])
def test_dpop_fields_appear_only_when_dpop_is_on(mode, required):
    document = ProtectedResourceMetadata.for_policies(
        resource="https://api.example", dpop=DPoPPolicy(mode=mode)
    ).document()
    assert document.get("dpop_bound_access_tokens_required") is required
    assert ("dpop_signing_alg_values_supported" in document) is (mode != "off")


def test_each_document_is_a_fresh_copy():
    metadata = ProtectedResourceMetadata(resource="https://api.example", scopes_supported=["a"])
    metadata.document()["scopes_supported"].append("b")
    assert metadata.document()["scopes_supported"] == ["a"]


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"resource": "http://api.example"}, "resource"),
        ({"resource": "https://api.example/#x"}, "resource"),
        ({"resource": "https://api.example/?tenant=1"}, "resource"),
        ({"resource": "api.example"}, "resource"),
        ({"resource": 5}, "resource"),
        ({"authorization_servers": ["http://login.example"]}, "authorization_servers"),
        ({"authorization_servers": "https://login.example"}, "authorization_servers"),
        ({"jwks_uri": "ftp://api.example/jwks"}, "jwks_uri"),
        ({"bearer_methods_supported": ["cookie"]}, "bearer_methods_supported"),
        ({"scopes_supported": ["ok", ""]}, "scopes_supported"),
        ({"dpop_bound_access_tokens_required": True}, "dpop_bound_access_tokens_required"),
        ({"resource_documentation": "javascript:alert(1)"}, "resource_documentation"),
    ],
)
def test_bad_settings_name_the_setting(options, setting):
    arguments = {"resource": "https://api.example", **options}
    with pytest.raises(ConfigurationError) as info:
        ProtectedResourceMetadata(**arguments)
    assert info.value.setting == setting
