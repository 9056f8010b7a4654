"""A URL that fails, to see what production shows when a view crashes."""

from django.urls import include, path


def crash(request):
    raise RuntimeError("secret-looking internal detail")


urlpatterns = [
    path("crash/", crash),
    path("", include("portal.urls")),
]
