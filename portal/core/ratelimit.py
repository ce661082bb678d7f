"""A fixed-window request limit per client address, kept in Django's cache (Redis in production)."""

import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings

from portal.core.cache import count as count_hit


def client_address(request):
    """The caller's address: the socket peer, or the hop our own proxies saw; IPv6 as its /64."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    # How many reverse proxies in front of the portal append to X-Forwarded-For (settings.py).
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        # One household or phone gets a whole /64; limiting single addresses would be no limit.
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    retry_after: int


def hit(scope, request, *, limit, window):
    """Count one request of `scope` from this client; refused once `limit` is used up in the window."""
    now = time.time()
    bucket = int(now // window)
    key = f"rl:{scope}:{client_address(request)}:{bucket}"
    retry_after = max(1, int((bucket + 1) * window - now))
    count = count_hit(key, window + 1)
    return Verdict(allowed=count <= limit, remaining=max(0, limit - count), retry_after=retry_after)
