"""The reader's language: English, Russian or Korean, chosen on the page or by the browser.

Every message the blog shows is English in the code and translated through
gettext catalogs (``translations/<language>/LC_MESSAGES/messages.po``, compiled
to ``.mo`` beside it; README says how to add a language). The language of a
request is the one the reader picked with the switcher at the foot of every
page (kept in a cookie), else the best the browser's ``Accept-Language``
asks for, else English. Outside a request (commands, logs) it is English.
"""

from __future__ import annotations

import functools
from datetime import datetime
from datetime import UTC
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.support import Translations
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup
from quart import g
from quart import has_request_context
from quart import Quart
from quart import request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from quart_flaskr import lookup

#: The languages the blog speaks, each named in itself; English is the source.
LANGUAGES = {"en": "English", "ru": "Русский", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"
#: The cookie that keeps a reader's choice, for a year.
COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).parent.parent / "translations"


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for translation only"
    """Mark ``message`` for translation where it is defined; ``gettext`` translates it later."""
    return message


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (English needs none: it is the code's own text)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(TRANSLATIONS, [language])


def choose_language(chosen: str | None, accepted: list[str]) -> str:
    """The reader's own choice if the blog speaks it, else the browser's best, else English.

    :param accepted: the browser's languages, best first (``ru-RU`` matches ``ru``)
    """
    if chosen in LANGUAGES:
        return chosen
    for tag in accepted:
        primary = tag.replace("_", "-").split("-", 1)[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


@functools.lru_cache(maxsize=256)
def language_for(chosen: str | None, accept_language: str | None) -> str:
    """The language of a reader whose ``lang`` cookie holds ``chosen`` and whose browser
    sends ``accept_language`` (None: the header is not sent).

    The one place a request's language is worked out: the pages' (below) and
    the key of the answers the fast path keeps. Browsers send a handful of
    distinct headers, so each one's language is remembered.
    """
    accepted = parse_accept_header(accept_language, LanguageAccept)
    return choose_language(chosen, [tag for tag, quality in accepted if quality > 0])


def current_language() -> str:
    """The language of this request's pages and messages; English outside a request."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    language: str | None = g.get("language")
    if language is None:
        language = g.language = language_for(
            lookup.value(request.cookies, COOKIE, None),
            lookup.header(request.headers, "Accept-Language"),
        )
    return language


def gettext(message: str, **variables: object) -> str:
    """``message`` in the request's language, with ``%(name)s`` placeholders filled in."""
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """The form of a message for ``num`` (Russian has three), ``%(num)d`` filled in too."""
    text = translations(current_language()).ngettext(singular, plural, num)
    return text % {"num": num, **variables}


def format_time(moment: datetime, pattern: str) -> str:
    """A UTC time in the request's language, by a CLDR ``pattern`` (translated: each
    language's translators choose how its readers write a time), marked UTC: the
    blog does not know its readers' time zones, and pages are shared by all."""
    written = format_datetime(
        moment.replace(tzinfo=UTC),
        pattern,
        tzinfo=UTC,
        locale=Locale.parse(current_language()),
    )
    return f"{written} UTC"


def script_display_name(code: str, english: str) -> str:
    """A writing system's name (ISO 15924 ``code``) in the request's language."""
    language = current_language()
    if language == DEFAULT_LANGUAGE:
        return english
    name: str = Locale.parse(language).scripts.get(code, english)
    return name


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, **variables: object) -> str:
    """Templates' ``_()`` and ``gettext()``: translated, then ``%(name)s`` filled in, escaped.

    As Jinja's i18n extension does with ``newstyle`` callables, in one call
    where its wrappers make three through the template's context (a page
    shows some twenty messages): the text is always a format string, and in
    an autoescaped template the values put into it are escaped, not the text.
    """
    text = translations(current_language()).gettext(message)
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704 - our catalogs


@pass_eval_context
def _template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: object
) -> str:
    """Templates' ``ngettext()``: the form for ``num``, filled in as ``_()`` does, ``num`` too."""
    text = translations(current_language()).ngettext(singular, plural, num)
    variables.setdefault("num", num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704 - our catalogs


def init_app(app: Quart) -> None:
    # The names Jinja's i18n extension gives templates, without the extension:
    # the templates hold no {% trans %} blocks, only these calls.
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )
    app.add_template_global(current_language)
    app.add_template_global(format_time)
    app.jinja_env.globals["languages"] = LANGUAGES
    from quart_flaskr.i18n import switch

    app.register_blueprint(switch.bp)
    app.add_template_global(switch.here, "language_switch_next")
