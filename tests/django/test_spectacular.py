"""drf-spectacular shows the bearer (and cookie) security scheme."""

from __future__ import annotations

import yaml


def _schema(client):
    response = client.get("/schema/", headers={"Accept": "application/vnd.oai.openapi"})
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_has_a_bearer_security_scheme(client):
    schema = _schema(client)
    assert schema["components"]["securitySchemes"] == {
        "jwtGuardBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    assert schema["paths"]["/drf/me/"]["get"]["security"] == [{"jwtGuardBearer": []}]


def test_schema_shows_header_and_cookie_as_alternatives(client, configure):
    configure(TOKEN_LOCATIONS=["header", "cookie"], AUTH_COOKIE="jwt")
    schema = _schema(client)
    assert schema["components"]["securitySchemes"] == {
        "jwtGuardBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "jwtGuardCookie": {"type": "apiKey", "in": "cookie", "name": "jwt"},
    }
    assert schema["paths"]["/drf/me/"]["get"]["security"] == [
        {"jwtGuardBearer": []},
        {"jwtGuardCookie": []},
    ]
