from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_POST
from oauth2_provider import urls as oauth2_urls


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@require_POST
def test_login(request: HttpRequest) -> HttpResponse:
    """Log a user in (session cookie) so /o/authorize/ can answer; test-only, no CSRF."""
    user = authenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return HttpResponse("bad credentials", status=403)
    login(request, user)
    return HttpResponse(status=204)


urlpatterns = [
    path("healthz", healthz),
    path("test-login", test_login),
    # RFC 8414 metadata at the origin's root, the OAuth endpoints under /o/.
    path("", include((oauth2_urls.metadata_urlpatterns, "oauth2_provider"), namespace="metadata")),
    path("o/", include(oauth2_urls)),
]
