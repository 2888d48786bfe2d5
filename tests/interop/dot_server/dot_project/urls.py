from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from oauth2_provider import urls as oauth2_urls


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("healthz", healthz),
    # RFC 8414 metadata at the origin's root, the OAuth endpoints under /o/.
    path("", include((oauth2_urls.metadata_urlpatterns, "oauth2_provider"), namespace="metadata")),
    path("o/", include(oauth2_urls)),
]
