"""Create the interop server's database: ``DOT_DB=/tmp/x.sqlite3 python make_data.py``.

Migrates, then creates user ``alice`` and the applications of README.md.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dot_project.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402

PASSWORD = "alice-password"
CLIENTS = {
    "mobile-app": ("mobile-secret", "password"),
    "service-app": ("service-secret", "client-credentials"),
    "orders-api": ("orders-api-secret", "client-credentials"),
}
SPA_CLIENT, SPA_SECRET, SPA_REDIRECT = (
    "orders-spa",
    "orders-spa-secret",
    "http://127.0.0.1/callback",
)


def main() -> None:
    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("alice", password=PASSWORD)
    Application = get_application_model()
    for client_id, (secret, grant) in CLIENTS.items():
        Application.objects.create(
            name=client_id,
            client_id=client_id,
            client_secret=secret,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant,
            user=owner,
        )
    # The OpenID Connect client of the ID-token tests: authorization code
    # (with PKCE, DOT's default), RS256 ID tokens, no consent page.
    Application.objects.create(
        name=SPA_CLIENT,
        client_id=SPA_CLIENT,
        client_secret=SPA_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=SPA_REDIRECT,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        user=owner,
    )


if __name__ == "__main__":
    main()
