"""Rate limits per key (PORTAL_API_RATE_PER_KEY): 429 with Retry-After past it.

A fixed window counted with the cache's atomic increment (Redis in production, so
every web process shares the count): one round trip per call, whatever the rate. DRF's
own SimpleRateThrottle keeps and rewrites every call's timestamp in the window, which
at hundreds of calls per second costs more than the call itself. A fixed window lets
a key make up to twice its rate across a window's edge: the limit protects the portal,
it is not a quota.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from api.authentication import service_key

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/min" -> (600, 60); settings has checked the form."""
    number, period = rate.split("/")
    return int(number), _PERIODS[period[0]]


class KeyRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        key = service_key(request)
        if key is None:
            return True  # unauthenticated requests never get this far (401 first)
        limit, period = parse_rate(str(settings.PORTAL_API_RATE_PER_KEY))
        now = time.time()
        window = int(now // period)
        name = f"api-rate:{key.key_id}:{period}:{window}"
        try:
            count = cache.incr(name)  # one round trip for all calls but a window's first
        except ValueError:  # the window's first call (or two racing: one add wins)
            count = 1 if cache.add(name, 1, timeout=period + 1) else cache.incr(name)
        self._wait = (window + 1) * period - now
        return count <= limit

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
