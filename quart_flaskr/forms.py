"""Reading submitted forms: every field a view needs must be present."""

from __future__ import annotations

from quart import abort
from quart import request

from quart_flaskr.i18n import gettext


async def read_form(*names: str) -> dict[str, str]:
    """The named fields of the submitted form, each line break in them a line feed.

    :raise 400: when a field is missing (a malformed or non-form body parses as
        an empty form) or holds a NUL character, which no text a person types
        holds and PostgreSQL cannot store. Bytes that are not UTF-8 arrive as
        U+FFFD, the replacement character, which is text like any other: pasted
        text often holds it, and browsers send nothing but UTF-8.
    """
    form = await request.form
    missing = [name for name in names if name not in form]
    if missing:
        abort(
            400, gettext("The form is missing the field(s): %(names)s.", names=", ".join(missing))
        )
    # Line breaks as a textarea's value and its maxlength count them: one
    # character each, where browsers send CR LF.
    values = {name: form[name].replace("\r\n", "\n").replace("\r", "\n") for name in names}
    for name, value in values.items():
        if "\x00" in value:
            abort(
                400,
                gettext("The field %(name)s holds characters that are not valid text.", name=name),
            )
    return values
