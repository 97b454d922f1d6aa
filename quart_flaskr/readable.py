"""Requests the app can read: what Quart and Werkzeug fail on before any view or error
handler runs, found from the ASGI scope so that it is answered with a 400, not a 500.

- A Host header that Werkzeug cannot bind the URL map to (a label longer than
  63 characters, an empty one: ``BadHost``), or cannot turn back into a name
  for the page's own links (``xn--`` labels that are not Punycode: a
  ``UnicodeError``). Quart binds the URL map while it makes the request
  context, outside its error handling; the pages' links fail while the error
  page is made too.
- A query string that is not UTF-8. Quart decodes it strictly as it binds the
  URL map. HTTP/1.1 never brings one (h11 refuses the bytes), HTTP/2 can.

Every request is looked at, so the common case costs one look at a table:
each Host header value is judged once (``HOSTS_KEPT`` of them kept), and a
query string that is ASCII needs no decoding.
"""

from __future__ import annotations

from hypercorn.typing import HTTPScope
from werkzeug.exceptions import BadHost
from werkzeug.routing import Map
from werkzeug.sansio.utils import get_host
from werkzeug.urls import uri_to_iri

from quart_flaskr import bounded

#: Host header values judged, and the most kept: a site is served under a few.
HOSTS_KEPT = 64
BAD_HOST = "The Host header does not hold a host name this site can be served under."
BAD_QUERY = "The address's query string is not valid UTF-8 text."

_hosts: dict[bytes, bool] = {}
_map = Map()


def refusal(scope: HTTPScope) -> str | None:
    """Why the app cannot read this request (the 400's message), or None when it can."""
    query = scope["query_string"]
    if not query.isascii():
        try:
            query.decode("utf-8")
        except UnicodeDecodeError:
            return BAD_QUERY
    for name, value in scope["headers"]:
        # The first Host header is the one Werkzeug reads.
        if name.lower() == b"host":
            usable = _hosts.get(value)
            if usable is None:
                usable = _usable(value)
                bounded.put(_hosts, value, usable, HOSTS_KEPT)
            return None if usable else BAD_HOST
    return None


def _usable(value: bytes) -> bool:
    """Whether Werkzeug can route a request with this Host header and name its URLs."""
    # Decoded and checked as Werkzeug does: invalid characters give "", no host at all.
    host = get_host("http", value.decode("latin-1"))
    try:
        _map.bind(host)
        uri_to_iri(f"http://{host}/")
    except (BadHost, UnicodeError):
        return False
    return True
