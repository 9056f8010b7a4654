from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each kind of user to where their work is."""
    memberships = request.user.memberships.select_related("tenant")  # type: ignore[union-attr]
    return render(request, "home.html", {"memberships": memberships})
