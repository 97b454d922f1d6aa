"""Usernames that cannot pass for another: the rules a new name must meet, and its key.

A name is stored as typed after NFKC normalisation (so full-width letters,
ligatures and the like become the plain characters they show as). It must
first pass the checks of Unicode TR39 against a name made to look like another:
no invisible, format or control characters, no letters of scripts that do not
belong together (section 5.2, "Highly Restrictive"), no digits of different
number systems (5.3), no combining marks that do not show (5.4). Then it must
be a PRECIS ``UsernameCasePreserved`` identifier (RFC 8265): letters, digits
and combining marks of any script, and printable ASCII but the space; and
right-to-left text must keep RFC 5893's Bidi rule.

Two names are the same name when their :func:`username_key` is: what Unicode
calls NFKC_Casefold, so case, compatibility forms and invisible characters make
no difference. It stands for RFC 8265's UsernameCaseMapped comparison (which
lower-cases only) and is used wherever names are compared: registering, logging
in, and telling whether two accounts pass for each other.
"""

from __future__ import annotations

import itertools
import unicodedata

# fontTools is untyped; the three functions are wrapped with types below. It
# is the source of the Script_Extensions property, which the standard
# library's unicodedata does not have.
from fontTools.unicodedata import script  # type: ignore[import-untyped]
from fontTools.unicodedata import script_extension
from fontTools.unicodedata import script_name
from precis_i18n import get_profile
from precis_i18n.unicode import UnicodeData

from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import ngettext
from quart_flaskr.i18n import script_display_name
from quart_flaskr.limits import USERNAME_MAX

_PROFILE = get_profile("UsernameCasePreserved")
_UCD = UnicodeData()

#: Script_Extensions values that go with any script: they count for none.
_ANY_SCRIPT = frozenset({"Zyyy", "Zinh", "Zzzz"})
#: TR39's augmented script sets: the writing systems each script is part of,
#: so that Hangul with Han is Korean, and kana with Han is Japanese.
_AUGMENTED = {
    "Hani": frozenset({"Hanb", "Jpan", "Kore"}),
    "Hira": frozenset({"Jpan"}),
    "Kana": frozenset({"Jpan"}),
    "Hang": frozenset({"Kore"}),
    "Bopo": frozenset({"Hanb"}),
}
#: The mixes TR39's "Highly Restrictive" level allows beyond a single script:
#: Latin with Japanese, with Chinese (Han and Bopomofo), or with Korean.
_LATIN_MIXES = (
    frozenset({"Latn", "Jpan"}),
    frozenset({"Latn", "Hanb"}),
    frozenset({"Latn", "Kore"}),
)
#: Letters on which U+0307 COMBINING DOT ABOVE does not show (i, j and their
#: Cyrillic twins already have a dot) or makes them pass for i and j (the
#: dotless ones).
_DOTTED = frozenset("ij\u0131\u0237\u0456\u0458")
_DOT_ABOVE = "\u0307"


class UsernameError(ValueError):
    """A username refused; ``str()`` is the message to show."""


def _describe(char: str) -> str:
    """A character as U+XXXX and its name, which shows even when the character does not."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def _scripts(char: str) -> frozenset[str]:
    """The writing systems a character belongs to; empty for those used with any."""
    extensions: set[str] = script_extension(char)
    if extensions <= _ANY_SCRIPT:
        return frozenset()
    augmented = set(extensions)
    for code in extensions:
        augmented |= _AUGMENTED.get(code, frozenset())
    return frozenset(augmented)


def _mixed_scripts(name: str) -> bool:
    """Whether the letters belong to no single writing system nor an allowed Latin mix."""
    sets = [scripts for scripts in map(_scripts, name) if scripts]
    if not sets or frozenset.intersection(*sets):
        return False
    return not any(all(scripts & mix for scripts in sets) for mix in _LATIN_MIXES)


def _script_names(name: str) -> str:
    names: dict[str, None] = {}
    for char in name:
        if _scripts(char):
            code = script(char)
            names[script_display_name(code, str(script_name(code)))] = None
    return ", ".join(names)


def _hidden_mark(name: str) -> str | None:
    """A nonspacing mark that does not show: one repeated, or a dot above a dotted letter."""
    # Decomposed, as TR39 asks: composed, "a" and the first of two acute
    # accents would be one character.
    decomposed = unicodedata.normalize("NFD", name)
    for previous, char in itertools.pairwise(decomposed):
        if unicodedata.category(char) == "Mn" and (
            char == previous or (char == _DOT_ABOVE and previous in _DOTTED)
        ):
            return char
    return None


def misleading(username: str) -> str | None:
    """Why a name could pass for another one, or None.

    Only the rules against look-alikes, so that names stored before them can
    be checked for what matters (see ``check-deploy``).
    """
    return _misleading(unicodedata.normalize("NFKC", username))


def _misleading(name: str) -> str | None:
    for char in name:
        if unicodedata.category(char) == "Cc":
            return gettext(
                "Username cannot contain control characters (%(char)s).", char=_describe(char)
            )
        if unicodedata.category(char) == "Cf" or _UCD.default_ignorable(ord(char)):
            return gettext(
                "Username cannot contain invisible or formatting characters (%(char)s).",
                char=_describe(char),
            )
    if name and unicodedata.category(name[0])[0] == "M":
        # A mark has no letter of its own to go on: shown, it joins what comes
        # before the name on the page (the space after "by" takes the accent).
        return gettext(
            "Username cannot begin with a combining mark (%(char)s).", char=_describe(name[0])
        )
    if _mixed_scripts(name):
        # A digit of a script is not a letter: "abc" with an Arabic-Indic
        # digit mixes letters and digits, not letters.
        if any(char.isdecimal() and _scripts(char) for char in name):
            return gettext(
                "Username cannot mix letters and digits of different scripts (%(scripts)s).",
                scripts=_script_names(name),
            )
        return gettext(
            "Username cannot mix letters of different scripts (%(scripts)s).",
            scripts=_script_names(name),
        )
    zeros = {ord(char) - unicodedata.digit(char) for char in name if char.isdecimal()}
    if len(zeros) > 1:
        return gettext("Username cannot mix digits of different number systems.")
    mark = _hidden_mark(name)
    if mark is not None:
        return gettext(
            "Username cannot contain a combining mark that does not show (%(char)s).",
            char=_describe(mark),
        )
    return None


def _refusal(error: UnicodeEncodeError) -> str:
    """The message for what the PRECIS profile refused."""
    reason = error.reason.removeprefix("DISALLOWED/")
    if reason == "spaces":
        return gettext("Username cannot contain spaces.")
    if reason == "bidi_rule":
        # RFC 5893's Bidi rule, as a person can follow it.
        return gettext(
            "Username with right-to-left characters must begin with a right-to-left letter,"
            " end with a letter or digit, and hold no left-to-right letters."
        )
    char = error.object[error.start]
    shown = f"{char} " if char.isprintable() else ""
    return gettext(
        "Username cannot contain %(shown)s(%(char)s): use letters, digits and ASCII punctuation.",
        shown=shown,
        char=_describe(char),
    )


def prepare_username(username: str) -> str:
    """The name to store for what a user typed: NFKC-normalised, and checked.

    :raise UsernameError: when the name breaks a rule, with the message to show
    """
    name = unicodedata.normalize("NFKC", username)
    if not name:
        raise UsernameError(gettext("Username is required."))
    problem = _misleading(name)
    if problem is not None:
        raise UsernameError(problem)
    if len(name) > USERNAME_MAX:
        raise UsernameError(
            ngettext(
                "Username must be at most %(num)d character.",
                "Username must be at most %(num)d characters.",
                USERNAME_MAX,
            )
        )
    try:
        prepared: str = _PROFILE.enforce(name)
    except UnicodeEncodeError as error:
        raise UsernameError(_refusal(error)) from None
    # The name is the last part of its profile's address (/u/<name>), where a
    # slash would begin another part, and browsers take "." and ".." as steps.
    if "/" in prepared or prepared in {".", ".."}:
        raise UsernameError(
            gettext(
                "Username cannot contain a slash (/), nor be . or ..:"
                " it is the last part of your profile page's address."
            )
        )
    return prepared


def username_key(username: str) -> str:
    """What names that pass for each other have in common: Unicode's NFKC_Casefold.

    NFKC, then case folding, then invisible (default ignorable) characters
    dropped, until nothing changes. Defined for any string, stored names from
    before the rules included.
    """
    key, previous = username, None
    while key != previous:
        previous = key
        folded = unicodedata.normalize("NFKC", key).casefold()
        visible = "".join(char for char in folded if not _UCD.default_ignorable(ord(char)))
        key = unicodedata.normalize("NFKC", visible)
    return key
