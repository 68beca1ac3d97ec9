"""A fixed-window rate limit on the shared cache.

Written here because django-ratelimit refuses any cache without atomic increment, and the
embedded run's shared cache is the database. Under a race two hits may both count as the
n-th: harmless for limits whose job is to slow bots, and the clinic's sign-in limits are
allauth's own.
"""

import hashlib

from django.core.cache import cache
from django.utils import timezone

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'5/h' -> (5, 3600); '10/15m' -> (10, 900)."""
    count, _, per = rate.partition("/")
    multiplier = int(per[:-1] or 1)
    return int(count), multiplier * PERIODS[per[-1]]


def hit(*, group: str, key: str, rate: str) -> bool:
    """Count one hit; return True when this hit is over the limit."""
    limit, period = parse_rate(rate)
    window = int(timezone.now().timestamp()) // period
    digest = hashlib.sha256(f"{group}:{key}".encode()).hexdigest()[:32]
    cache_key = f"rl:{group}:{digest}:{window}"
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the window's first hit (the same number of cache round trips as others)
        cache.add(cache_key, 1, timeout=period + 5)
        count = 1
    return count > limit
