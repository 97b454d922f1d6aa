"""The client's address and scheme, as the proxies in front of the app saw them.

With ``PROXY_TRUSTED_HOPS`` set to N, the app takes the client's address from
``X-Forwarded-For`` and the scheme from ``X-Forwarded-Proto``, each the value the
N-th proxy from the app appended (anything before it is what the client sent,
and may be forged). The rate limits count by that address; the pages' own
absolute links (feed, sitemap, canonical) use that scheme.

``X-Forwarded-Host`` is never read. The host is the ``Host`` header alone,
which nginx sets to the name the client asked for (and ``ALLOWED_HOSTS``
checks); a proxy that does not clear ``X-Forwarded-Host`` passes on the
client's own, which Hypercorn's ``ProxyFixMiddleware`` would put in ``Host``
(so a shared cache in front could keep a sitemap pointing elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable

from hypercorn.typing import ASGIFramework
from hypercorn.typing import ASGIReceiveCallable
from hypercorn.typing import ASGISendCallable
from hypercorn.typing import Scope

#: The schemes a proxy may say the client used; any other value is ignored.
SCHEMES = frozenset({"http", "https"})


class TrustedProxies:
    """ASGI middleware setting the scope's client and scheme from the trusted proxies' headers."""

    def __init__(self, asgi_app: ASGIFramework, hops: int) -> None:
        self.asgi_app = asgi_app
        self.hops = hops

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "http":
            client = trusted_value(scope["headers"], b"x-forwarded-for", self.hops)
            scheme = trusted_value(scope["headers"], b"x-forwarded-proto", self.hops)
            if client or scheme in SCHEMES:
                # A copy: the server's own scope stays as it received it.
                scope = scope.copy()
                if client:
                    scope["client"] = (client, 0)
                if scheme in SCHEMES:
                    scope["scheme"] = scheme
        await self.asgi_app(scope, receive, send)


def trusted_value(headers: Iterable[tuple[bytes, bytes]], name: bytes, hops: int) -> str | None:
    """The value of the comma-separated header ``name`` that the ``hops``-th proxy added.

    None when fewer values came than proxies are trusted: then no trusted
    proxy added one, and what came is the client's own.
    """
    values = [
        value.strip()
        for header, joined in headers
        if header.lower() == name
        for value in joined.decode("latin-1").split(",")
    ]
    return values[-hops] if len(values) >= hops else None
