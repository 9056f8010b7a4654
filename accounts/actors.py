"""Who did something, as the audit log records it: a user (or nobody, for the system)
and the address the request came from.

Services take an Actor rather than an HttpRequest: they need the person and the IP
address only, and a task or a management command has no request to give.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from accounts.client_ip import client_ip
from accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    ip_address: str | None = None

    @classmethod
    def of(cls, request: HttpRequest | None, user: User | None = None) -> Actor:
        """`user`, else the signed-in user (None when anonymous), and the client's address."""
        if request is None:
            return cls(user=user)
        signed_in = getattr(request, "user", None)
        if user is None and isinstance(signed_in, User):
            user = signed_in
        return cls(user=user, ip_address=client_ip(request))


SYSTEM = Actor()
