"""Responses compressed with Brotli or gzip, as the client's ``Accept-Encoding`` allows.

Text (pages, style sheets, scripts, SVG, the feed and the sitemaps) shrinks
to a fifth to a third of its size. Pages the page cache keeps are compressed
once per encoding and kept with the page (``pagecache.py``); static files once
per process, at the highest levels (``assets.py``); every other response here,
on its way out, at a level that costs little CPU.

Pages carry a CSRF token for logged-in users, a secret that a BREACH attack
could read from the compressed size of pages that also reflect what an
attacker sends (a search). Each token is masked anew on every render
(``security.csrf_token``), so no two pages share its bytes for compression to
find; see the README.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
from collections.abc import Callable

import brotli
from quart import Quart
from quart import request
from quart import Response
from quart.wrappers.response import DataBody
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response as WerkzeugResponse

from quart_flaskr import lookup
from quart_flaskr.security import header_values

#: Encodings this site sends, best first when the client likes them equally.
ENCODINGS = ("br", "gzip")
#: Bodies shorter than this are sent as they are: they fit in the first
#: packets anyway, and gzip's own header and trailer take 18 bytes.
MIN_SIZE = 1024
#: Bodies from this size are compressed in a thread rather than on the event
#: loop, which would hold up every other request meanwhile. Measured here,
#: Brotli at DYNAMIC_LEVELS takes about 10 us a KiB of this site's pages and
#: gzip 11 to 24 (both release the GIL), and a hop to a thread about 100 us:
#: inline, a body costs the loop at most about half a millisecond.
THREAD_SIZE = 32 * 1024
#: Brotli's window, 64 KiB (2 ** 16) where its default is 4 MiB. With the default,
#: compressing a page took buffers of megabytes that, once freed, stayed in the
#: process's heap (glibc, having given such a buffer back to the system once,
#: keeps the next ones): measured in a worker, 3.9 MiB more heap after its first
#: compressed pages, against 0.9 with this window. Pages up to 120 KB come out
#: within 0.3% of the default's size (1.8% at 250 KB), at the same speed.
BROTLI_WINDOW_BITS = 16
#: Types worth compressing besides ``text/*`` and ``*+xml``: the others this
#: site serves (images) are compressed already.
_TEXT_TYPES = frozenset({"application/javascript", "application/json", "application/xml"})


@functools.lru_cache(maxsize=256)
def negotiate(accept_encoding: str | None) -> str | None:
    """The encoding to send, ``"br"`` or ``"gzip"``, or None to send the body as it is.

    The client's q-values decide (RFC 9110, 12.5.3): ``*`` stands for any
    encoding not named, ``q=0`` refuses one, and ``identity`` preferred over
    both keeps the body as it is. No header at all means no compression.
    (Browsers send a handful of distinct headers: their choice is remembered.)
    """
    if not accept_encoding:
        return None
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, parameters = item.partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[name.strip().lower()] = quality
    if "x-gzip" in qualities:
        qualities.setdefault("gzip", qualities["x-gzip"])
    any_other = qualities.get("*", 0.0)
    best = max(ENCODINGS, key=lambda encoding: qualities.get(encoding, any_other))
    best_quality = qualities.get(best, any_other)
    # Sent as it is only when the client prefers that outright.
    if best_quality <= 0 or qualities.get("identity", 0.0) > best_quality:
        return None
    return best


def compressible(mimetype: str) -> bool:
    """Whether a body of this type shrinks when compressed (text does, images do not)."""
    return mimetype.startswith("text/") or mimetype.endswith("+xml") or mimetype in _TEXT_TYPES


def _gzip(level: int) -> Callable[[bytes], bytes]:
    # No time stamp in the header: the same body always gives the same bytes.
    return functools.partial(gzip.compress, compresslevel=level, mtime=0)


def _brotli(quality: int) -> Callable[[bytes], bytes]:
    return functools.partial(
        brotli.compress, quality=quality, mode=brotli.MODE_TEXT, lgwin=BROTLI_WINDOW_BITS
    )


#: For a body compressed on every response: cheap levels, which still take
#: most of what the best ones do (measured on this site's pages: see the README).
DYNAMIC_LEVELS = {"br": _brotli(4), "gzip": _gzip(6)}
#: For a body compressed once and then sent many times: a page the cache keeps
#: until the next write.
CACHED_LEVELS = {"br": _brotli(6), "gzip": _gzip(9)}
#: For files that never change while the process runs: the best there is.
STATIC_LEVELS = {"br": _brotli(11), "gzip": _gzip(9)}


async def compress(
    body: bytes,
    encoding: str,
    levels: dict[str, Callable[[bytes], bytes]],
    *,
    in_thread: bool = False,
) -> bytes:
    """``body`` in ``encoding``; a large one, or any ``in_thread``, is compressed in a thread."""
    function = levels[encoding]
    if in_thread or len(body) >= THREAD_SIZE:
        return await asyncio.to_thread(function, body)
    return function(body)


async def compress_once(
    encoded: dict[str, bytes],
    body: bytes,
    encoding: str,
    levels: dict[str, Callable[[bytes], bytes]],
    *,
    in_thread: bool = False,
) -> bytes:
    """``body`` in ``encoding``, compressed at the first call for it and then kept in ``encoded``.

    For a body sent many times: a cached page, a static file.
    """
    done = encoded.get(encoding)
    if done is None:
        done = encoded[encoding] = await compress(body, encoding, levels, in_thread=in_thread)
    return done


def encoded_etag(etag: str, encoding: str) -> str:
    """The ETag of one encoding of a body: each encoding is a representation of its own."""
    return f"{etag}-{encoding}"


def add_vary(headers: Headers, name: str) -> None:
    """Add ``name`` to the ``Vary`` header, unless it is there."""
    vary = lookup.header(headers, "Vary")
    if not vary:
        headers["Vary"] = name
    elif name.lower() not in (part.strip().lower() for part in vary.split(",")):
        headers["Vary"] = f"{vary}, {name}"


def choose_encoding(size: int, mimetype: str, headers: Headers) -> str | None:
    """The encoding of a body of this size and type for the request, or None.

    Whenever the body could be compressed at all, the response varies with
    ``Accept-Encoding``, and ``headers`` say so, whatever this client takes.
    """
    if size < MIN_SIZE or not compressible(mimetype):
        return None
    add_vary(headers, "Accept-Encoding")
    return negotiate(lookup.header(request.headers, "Accept-Encoding"))


def set_encoded_body(response: Response | WerkzeugResponse, body: bytes, encoding: str) -> None:
    """Give ``response`` the body in ``encoding``, its length and the encoding's ETag."""
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding
    etag, weak = response.get_etag()
    if etag is not None:
        response.set_etag(encoded_etag(etag, encoding), bool(weak))


def _shorter_than(length: str | None, size: int) -> bool:
    """Whether a Content-Length value says fewer than ``size`` bytes (not when it is no number)."""
    return length is not None and length.isdigit() and int(length) < size


async def compress_response(
    response: Response | WerkzeugResponse,
) -> Response | WerkzeugResponse:
    """Compress a response's body held in memory, when it is worth it and the client takes it.

    Files streamed from disk, responses already encoded (cached pages, static
    files) or asking for no transformation, and bodiless ones (204, 304, and
    206 ranges of a body) pass as they are. Error pages are Werkzeug's
    responses, whose body is a list of bytes.
    """
    if response.status_code in (204, 206, 304):
        return response
    held = response.response
    if isinstance(held, DataBody) and len(held.data) < MIN_SIZE:
        # Too small to be worth it, without a look at the headers.
        return response
    present = header_values(response.headers)
    if (
        "content-encoding" in present
        or "no-transform" in present.get("cache-control", "")
        # Too small to be worth it, as its length already says.
        or _shorter_than(present.get("content-length"), MIN_SIZE)
    ):
        return response
    if isinstance(response, WerkzeugResponse):
        if not response.is_sequence:
            return response
        body = response.get_data()
    elif isinstance(response.response, response.data_body_class):
        body = await response.get_data(as_text=False)
    else:
        return response
    encoding = choose_encoding(len(body), response.mimetype or "", response.headers)
    if encoding is not None:
        set_encoded_body(response, await compress(body, encoding, DYNAMIC_LEVELS), encoding)
    return response


def init_app(app: Quart) -> None:
    app.after_request(compress_response)
