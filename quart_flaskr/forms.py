"""Reading submitted forms: every field a view needs must be present."""

from __future__ import annotations

from quart import abort
from quart import request

from quart_flaskr.i18n import gettext


async def read_form(*names: str) -> dict[str, str]:
    """The named fields of the submitted form.

    :raise 400: when a field is missing (a malformed or non-form body parses as
        an empty form) or holds text that is not valid Unicode.
    """
    form = await request.form
    missing = [name for name in names if name not in form]
    if missing:
        abort(
            400, gettext("The form is missing the field(s): %(names)s.", names=", ".join(missing))
        )
    values = {name: form[name] for name in names}
    for name, value in values.items():
        if "\x00" in value or "\ufffd" in value:
            abort(
                400,
                gettext("The field %(name)s holds characters that are not valid text.", name=name),
            )
    return values
