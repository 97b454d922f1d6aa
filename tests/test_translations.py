"""The message catalogs: up to date with the code, complete, and compiled as the wheel ships them.

When one of these fails, ``python3 tasks.py translations`` brings the catalogs
up to date; then each new message needs its translation in every ``.po``.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from quart_flaskr.i18n import DEFAULT_LANGUAGE
from quart_flaskr.i18n import LANGUAGES
from quart_flaskr.i18n import TRANSLATIONS

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = sorted(set(LANGUAGES) - {DEFAULT_LANGUAGE})


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def message_ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def test_the_template_holds_every_message_of_the_code(tmp_path: Path) -> None:
    extracted = tmp_path / "messages.pot"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.chdir(ROOT):
        CommandLineInterface().run(  # type: ignore[no-untyped-call]
            [
                "pybabel",
                "--quiet",
                "extract",
                "--mapping-file=babel.cfg",
                "--keyword=N_",
                "--no-location",
                f"--output-file={extracted}",
                "quart_flaskr",
            ]
        )
    fresh = message_ids(read_catalog(extracted))
    committed = message_ids(read_catalog(TRANSLATIONS / "messages.pot"))
    assert fresh == committed, "run 'python3 tasks.py translations'"
    # Werkzeug's own wording of the errors the blog answers with is in it too.
    assert {"Not Found", "Method Not Allowed", "Too Many Requests"} <= fresh


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    template = read_catalog(TRANSLATIONS / "messages.pot")
    catalog = read_catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language)
    assert message_ids(catalog) == message_ids(template)
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"no {language} translation of {message.id!r}"
        if message.pluralizable:
            assert len(forms) == catalog.num_plurals, message.id
    # Babel's checks: the same %(name)s placeholders as the English.
    assert [(message.id, errors) for message, errors in catalog.check()] == []


def test_russian_has_three_plural_forms_and_korean_one() -> None:
    plurals = {
        language: read_catalog(
            TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language
        ).num_plurals
        for language in TRANSLATED
    }
    assert plurals == {"ko": 1, "ru": 3}


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_the_translations_of_today(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(folder / "messages.po", language))
    assert (folder / "messages.mo").read_bytes() == compiled.getvalue(), (
        "run 'python3 tasks.py translations'"
    )
