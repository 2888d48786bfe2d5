"""The pytest plugin: inert until used, its fixtures work, and it coexists with its entry point.

Each case is a user's suite run by a separate pytest process (see
``user_suite``), so the plugin is loaded the way users load it.
"""

from __future__ import annotations

from pathlib import Path

from .user_suite import passed_count, run_user_suite

PLUGIN = "jwt_guard_core.testing.pytest_plugin"
# The line the project's pyproject.toml declares, as an installed
# distribution's entry_points.txt carries it.
ENTRY_POINT = f"[pytest11]\n{PLUGIN} = {PLUGIN}\n"

UNUSED = """
import sys
import threading


def test_nothing_is_imported_or_served_until_a_fixture_is_used():
    assert "jwt_guard_core.testing.issuer" not in sys.modules
    assert "jwt_guard_core.signing" not in sys.modules
    assert not [t for t in threading.enumerate() if t.name == "jwt-guard-test-issuer"]
"""

USED = """
from jwt_guard_core import GuardConfig, StaticKeySet, TokenError, Verifier


def test_the_fixtures_mint_tokens_the_issuer_keys_verify(jwt_issuer, jwt_tokens):
    verifier = Verifier(GuardConfig(
        algorithms=[jwt_issuer.algorithm],
        keys=StaticKeySet.from_jwks(jwt_issuer.jwks()),
        issuer=jwt_issuer.url,
        audience=jwt_issuer.audience,
    ))
    assert verifier.verify(jwt_tokens.token("dora")).subject == "dora"
    try:
        verifier.verify(jwt_tokens.expired())
    except TokenError as error:
        assert error.reason == "token_expired"
    else:
        raise AssertionError("an expired token was accepted")


def test_the_flask_config_names_the_session_issuer(jwt_issuer, jwt_guard_flask_config):
    assert jwt_guard_flask_config["JWT_GUARD_JWKS_URL"] == jwt_issuer.jwks_url
"""

OPTIONS = """
import pytest


@pytest.fixture(scope="session")
def jwt_issuer_options():
    return {"algorithm": "EdDSA", "audience": "orders"}


@pytest.fixture
def jwt_guard_settings_options():
    return {"source": "static", "EXPECTED_TYPE": "at+jwt"}
"""

OPTIONS_USED = """
def test_the_issuer_and_settings_take_the_overridden_options(jwt_issuer, jwt_guard_flask_config):
    assert (jwt_issuer.algorithm, jwt_issuer.audience) == ("EdDSA", "orders")
    assert jwt_guard_flask_config["JWT_GUARD_JWKS"] == jwt_issuer.jwks()
    assert jwt_guard_flask_config["JWT_GUARD_EXPECTED_TYPE"] == "at+jwt"
    assert jwt_guard_flask_config["JWT_GUARD_AUDIENCE"] == "orders"
"""

DJANGO_WITHOUT_PYTEST_DJANGO = """
def test_django_settings(jwt_guard_django_settings):
    pass
"""


def test_the_plugin_is_inert_until_a_fixture_is_used(tmp_path: Path) -> None:
    result = run_user_suite(tmp_path, {"test_unused.py": UNUSED}, "-p", PLUGIN)
    assert passed_count(result) == 1


def test_the_fixtures_work_when_enabled_with_dash_p(tmp_path: Path) -> None:
    result = run_user_suite(tmp_path, {"test_used.py": USED}, "-p", PLUGIN)
    assert passed_count(result) == 2


def test_the_options_fixtures_configure_the_issuer_and_settings(tmp_path: Path) -> None:
    files = {"conftest.py": OPTIONS, "test_options.py": OPTIONS_USED}
    assert passed_count(run_user_suite(tmp_path, files, "-p", PLUGIN)) == 1


def test_the_django_fixture_without_pytest_django_says_what_is_missing(tmp_path: Path) -> None:
    files = {"test_django.py": DJANGO_WITHOUT_PYTEST_DJANGO}
    result = run_user_suite(tmp_path, files, "-p", PLUGIN, "-p", "no:django")
    assert result.returncode == 1
    assert "jwt_guard_django_settings needs pytest-django's settings fixture" in result.stdout


def install_entry_point(site: Path) -> None:
    """What installing jwt-guard adds for pytest: a distribution with the pytest11 entry point."""
    dist = site / "jwt_guard_entry_point_probe-0.0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jwt-guard-entry-point-probe\nVersion: 0.0.0\n"
    )
    (dist / "entry_points.txt").write_text(ENTRY_POINT)


def test_the_entry_point_loads_the_plugin_without_any_option(tmp_path: Path) -> None:
    install_entry_point(tmp_path / "site")
    project = tmp_path / "project"
    project.mkdir()
    files = {"test_used.py": USED, "test_unused.py": UNUSED}
    assert passed_count(run_user_suite(project, files, extra_path=[tmp_path / "site"])) == 3


def test_the_entry_point_and_the_explicit_spellings_name_one_plugin(tmp_path: Path) -> None:
    # A user may keep "-p" or pytest_plugins from before installing: named
    # after the module, the entry point is the same plugin, not a second
    # registration that pytest refuses.
    install_entry_point(tmp_path / "site")
    project = tmp_path / "project"
    project.mkdir()
    files = {"conftest.py": f"pytest_plugins = [{PLUGIN!r}]\n", "test_used.py": USED}
    result = run_user_suite(project, files, "-p", PLUGIN, extra_path=[tmp_path / "site"])
    assert passed_count(result) == 2
