"""System checks of the remote key sets (issue 13): jwt_guard.E013, E014, E021, W012.

Real providers on loopback: a discovery document for another issuer, a
port nobody listens on, a JWKS URL answering 404 and a good issuer. With
``WARM_ON_STARTUP`` the checks run in every ``manage.py check``; without
it only under ``check --deploy``, so a plain check does no network I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from jwt_guard_core.testing import LocalIssuer
from jwt_guard_django.checks import check_key_sets, check_key_sets_deploy
from jwt_guard_django.verifier import get_verifier
from tests import startup_support
from tests.startup_support import serve_discovery


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(algorithm="RS256") as local:
        yield local


@pytest.fixture
def closed_port() -> int:
    return startup_support.closed_port()


@pytest.fixture
def use(settings: Any) -> Any:
    def _use(values: dict[str, Any]) -> None:
        settings.JWT_GUARD = values

    return _use


def keyset_ids(deploy: bool = False) -> list[str]:
    messages = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=deploy)
    return [m.id for m in messages if m.id and m.id.startswith("jwt_guard.")]


def test_both_checks_are_registered_one_for_deploy_only():
    plain = checks.registry.registry.get_checks()
    deploy = checks.registry.registry.get_checks(include_deployment_checks=True)
    assert check_key_sets in plain
    assert check_key_sets_deploy not in plain
    assert check_key_sets_deploy in deploy


def test_e013_discovery_document_for_another_issuer(use, httpserver, issuer):
    origin = serve_discovery(httpserver, issuer.jwks())
    use(
        issuer.django_settings(
            source="discovery", ISSUER=None, OIDC_ISSUER=origin, WARM_ON_STARTUP=True
        )
    )
    [message] = check_key_sets()
    assert message.id == "jwt_guard.E013"
    assert isinstance(message, checks.Error)
    assert message.msg.startswith(f"JWT_GUARD['OIDC_ISSUER'] ({origin!r}): ")
    assert "'https://evil.example'" in message.msg
    assert f"not the configured {origin!r}" in message.msg
    assert "trailing slash included" in message.hint


def test_e013_issuer_setting_other_than_the_discovered_issuer(use, issuer):
    use(issuer.django_settings(source="discovery", ISSUER=issuer.url + "/", WARM_ON_STARTUP=True))
    [message] = check_key_sets()
    assert message.id == "jwt_guard.E013"
    assert message.msg.startswith(f"JWT_GUARD['ISSUER'] is {issuer.url + '/'!r}")


def test_e014_jwks_url_that_is_not_a_key_set(use, httpserver, issuer):
    httpserver.expect_request("/nothing").respond_with_data("no", status=404)
    url = httpserver.url_for("/nothing")
    use(issuer.django_settings(JWKS_URL=url, WARM_ON_STARTUP=True))
    [message] = check_key_sets()
    assert message.id == "jwt_guard.E014"
    assert message.msg.startswith(f"JWT_GUARD['JWKS_URL'] ({url!r}) does not give a usable key")
    assert "HTTP 404" in message.msg


def test_e021_unreachable_issuer_with_warm_up(use, issuer, closed_port):
    # WARM_ON_STARTUP asks for the keys at start-up: not getting them is an error.
    url = f"http://127.0.0.1:{closed_port}"
    use(
        issuer.django_settings(
            source="discovery", ISSUER=None, OIDC_ISSUER=url, WARM_ON_STARTUP=True
        )
    )
    [message] = check_key_sets()
    assert message.id == "jwt_guard.E021"
    assert isinstance(message, checks.Error)
    assert message.msg.startswith(
        f"could not warm the key set of JWT_GUARD['OIDC_ISSUER'] ({url!r}) at start-up: "
        "connect_error"
    )


def test_a_good_issuer_gives_no_message_and_its_keys_serve_requests(use, issuer):
    use(issuer.django_settings(source="discovery", WARM_ON_STARTUP=True))
    assert keyset_ids() == []
    assert issuer.jwks_requests == 1
    token = issuer.tokens().token(sub="alice")
    assert get_verifier().verify(token).claims["sub"] == "alice"
    assert issuer.jwks_requests == 1


def test_the_check_reports_the_warm_up_of_ready_without_fetching_again(use, httpserver, issuer):
    from django.apps import apps

    origin = serve_discovery(httpserver, issuer.jwks())
    use(
        issuer.django_settings(
            source="discovery", ISSUER=None, OIDC_ISSUER=origin, WARM_ON_STARTUP=True
        )
    )
    apps.get_app_config("jwt_guard").ready()
    assert keyset_ids() == ["jwt_guard.E013"]
    assert len(httpserver.log) == 1


def test_without_warm_up_a_plain_check_does_no_network_io(use, httpserver, issuer):
    origin = serve_discovery(httpserver, issuer.jwks())
    use(issuer.django_settings(source="discovery", ISSUER=None, OIDC_ISSUER=origin))
    assert keyset_ids() == []
    assert httpserver.log == []
    call_command("check")
    assert httpserver.log == []


def test_without_warm_up_check_deploy_fetches_and_reports(use, httpserver, issuer):
    origin = serve_discovery(httpserver, issuer.jwks())
    use(issuer.django_settings(source="discovery", ISSUER=None, OIDC_ISSUER=origin))
    assert "jwt_guard.E013" in keyset_ids(deploy=True)
    with pytest.raises(SystemCheckError, match=r"jwt_guard\.E013"):
        call_command("check", deploy=True)


def test_a_bad_configuration_is_left_to_check_settings(use, issuer):
    use(issuer.django_settings(AUDIENCE=None, WARM_ON_STARTUP=True))
    assert check_key_sets() == []


def test_w012_unreachable_issuer_under_deploy_without_warm_up(use, issuer, closed_port):
    # No warm-up: the project did not ask for its keys at start-up, and a
    # deploy check may run where the provider cannot be reached.
    url = f"http://127.0.0.1:{closed_port}"
    use(issuer.django_settings(source="discovery", ISSUER=None, OIDC_ISSUER=url))
    assert check_key_sets() == []
    [message] = check_key_sets_deploy()
    assert message.id == "jwt_guard.W012"
    assert isinstance(message, checks.Warning)
    assert f"JWT_GUARD['OIDC_ISSUER'] ({url!r})" in message.msg
