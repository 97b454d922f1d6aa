"""Reading submitted forms: every field a view needs must be present."""

from __future__ import annotations

import io
import re
import unicodedata
from functools import cached_property
from typing import IO
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from quart import abort
from quart import request
from quart.formparser import FormDataParser
from quart.wrappers import Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.utils import get_content_length

from quart_flaskr import lookup
from quart_flaskr.i18n import gettext

if TYPE_CHECKING:
    from quart.formparser import ParserFunc
    from quart.wrappers.request import Body


#: What no text a person types holds: control characters (C0 and C1) but tab, line
#: feed and carriage return, and the noncharacters U+FFFE and U+FFFF. Pages would
#: show them as they came, and XML (the feed) cannot hold most of them.
_NOT_TEXT = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
#: Fields in which only NUL is refused: passwords, never shown, only hashed (one set
#: before, by a script say, goes on working), and usernames, whose own rules refuse
#: control characters and say which (see ``usernames.py``).
ANY_CHARACTER_FIELDS = frozenset({"password", "current_password", "new_password", "username"})

#: The media types of a URL-encoded form, as Quart's parser reads them.
URLENCODED = frozenset({"application/x-www-form-urlencoded", "application/x-url-encoded"})


class TextFormDataParser(FormDataParser):
    """Quart's form parser, but a URL-encoded form whose text is not UTF-8 is a 400, and
    one of more fields than ``MAX_FORM_PARTS`` a 413 (as a multipart form of more parts).

    Quart decodes its %-escapes leniently, each byte that is not UTF-8 a
    U+FFFD: no browser sends such a form, and what it would store is not what
    anyone typed. A U+FFFD typed is sent as the escapes of its UTF-8, and kept.
    (Multipart forms' fields stay lenient: browsers send their text as UTF-8.)
    """

    def get_parse_func(self, mimetype: str, options: dict[str, str]) -> ParserFunc | None:
        if mimetype in URLENCODED:
            return _parse_text_form
        return super().get_parse_func(mimetype, options)


async def _parse_text_form(
    parser: FormDataParser,
    body: Body,
    mimetype: str,
    content_length: int | None,
    options: dict[str, str],
) -> tuple[MultiDict[str, str], MultiDict[str, str]]:
    try:
        fields = parse_qsl(
            (await body).decode(),
            keep_blank_values=True,
            errors="strict",
            # As many as a multipart form may have parts: each is parsed on the
            # event loop, and no form of the blog has more than a handful.
            max_num_fields=parser.max_form_parts,
        )
    except UnicodeDecodeError:
        raise BadRequest(gettext("The form's text is not valid UTF-8.")) from None
    except ValueError:  # More fields than that.
        raise RequestEntityTooLarge(gettext("The form has too many fields.")) from None
    return MultiDict(fields), MultiDict()


class FormRequest(Request):
    """The app's request: its forms are read by :class:`TextFormDataParser`."""

    form_data_parser_class = TextFormDataParser

    def make_form_data_parser(self) -> FormDataParser:
        """Quart's parser, which keeps an upload's file in memory while bodies are bounded.

        Werkzeug's default writes each file of over 500 KB to a temporary file,
        on the event loop, to be read back at once: a picture is at most
        ``MAX_IMAGE_BYTES``, and its bytes are held to be decoded anyway.
        """
        parser = super().make_form_data_parser()
        if self.max_content_length is not None:
            parser.stream_factory = _in_memory
        return parser

    @cached_property
    def content_length(self) -> int | None:
        """Werkzeug's, the headers looked up without an exception for each one missing
        (every GET has neither): Quart asks it of every request."""
        return get_content_length(
            http_content_length=lookup.header(self.headers, "Content-Length"),
            http_transfer_encoding=lookup.header(self.headers, "Transfer-Encoding"),
        )


def _in_memory(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> IO[bytes]:
    """Where an uploaded file's bytes go as they arrive (a Werkzeug stream factory)."""
    return io.BytesIO()


async def read_form(*names: str) -> dict[str, str]:
    """The named fields of the submitted form.

    :raise 400: when a field is missing (a malformed or non-form body parses as
        an empty form) or holds a NUL character, which no text a person types
        holds and PostgreSQL cannot store, or, in a field that is shown, another
        character of ``_NOT_TEXT``. Bytes that are not UTF-8 arrive as
        U+FFFD, the replacement character, which is text like any other: pasted
        text often holds it, and browsers send nothing but UTF-8.
    """
    form = await request.form
    missing = [name for name in names if name not in form]
    if missing:
        abort(
            400, gettext("The form is missing the field(s): %(names)s.", names=", ".join(missing))
        )
    values = {name: form[name] for name in names}
    for name, value in values.items():
        if "\x00" in value if name in ANY_CHARACTER_FIELDS else not is_text(value):
            abort(
                400,
                gettext("The field %(name)s holds characters that are not valid text.", name=name),
            )
    return values


#: Characters that show nothing though Unicode calls them letters or symbols: the
#: Hangul fillers and the blank Braille pattern, favourites for "empty" names.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
#: Categories of characters that show nothing themselves: spaces, line and paragraph
#: separators, and format characters (zero-width space and joiners, direction marks).
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc"})


def shows_nothing(text: str) -> bool:
    """Whether ``text`` holds nothing a reader would see (a required field left empty).

    ``str.strip`` leaves a zero-width space or a Hangul filler in place: a
    title of one alone would be a post that lists as nothing at all.
    """
    return all(
        char in _BLANK_LETTERS or unicodedata.category(char) in _BLANK_CATEGORIES for char in text
    )


def is_text(value: str) -> bool:
    """Whether ``value`` holds only what people type: no NUL, no character of ``_NOT_TEXT``."""
    return "\x00" not in value and _NOT_TEXT.search(value) is None


def one_line(text: str) -> str:
    """A one-line field's text as a browser sends what is typed in it: without line breaks,
    which HTML has browsers strip from an input's value (a title sent with one is not two)."""
    return text.replace("\r", "").replace("\n", "")


def typed_lines(text: str) -> str:
    """A textarea's text as its ``maxlength`` counts it: each line break one line feed,
    where browsers send CR LF. (Other fields keep what was sent: a password, say.)"""
    return text.replace("\r\n", "\n").replace("\r", "\n")
