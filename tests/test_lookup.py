from __future__ import annotations

from quart import Quart
from quart import request
from werkzeug.datastructures import Headers
from werkzeug.datastructures import MultiDict

from quart_flaskr import lookup
from quart_flaskr.paging import reading_args


def test_value_is_the_first_one_or_the_default() -> None:
    values = MultiDict([("q", "first"), ("q", "second"), ("empty", "")])
    assert lookup.value(values, "q", "") == "first"
    assert lookup.value(values, "empty", "default") == ""
    assert lookup.value(values, "page", "1") == "1"
    assert lookup.value(values, "lang", None) is None


def test_header_is_the_first_one_in_any_case_or_none() -> None:
    headers = Headers([("Vary", "Cookie"), ("vary", "Accept-Language"), ("X-Empty", "")])
    assert lookup.header(headers, "VARY") == "Cookie"
    assert lookup.header(headers, "x-empty") == ""
    assert lookup.header(headers, "Accept-Encoding") is None


async def test_a_value_looked_up_is_noted_for_the_page_cache(app: Quart) -> None:
    async with app.test_request_context("/?page=2&utm_source=mail"):
        with reading_args() as read:
            assert lookup.value(request.args, "page", "1") == "2"
            assert lookup.value(request.args, "q", "") == ""
            assert read.outside == []
            assert lookup.value(request.args, "utm_source", "") == "mail"
            assert lookup.value(request.args, "fbclid", "") == ""
            # Asked and read: each noted as request.args.get notes it.
            assert set(read.outside) == {"utm_source", "fbclid"}
