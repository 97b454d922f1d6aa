"""ALLOWED_HOSTS: a Host header is compared without its port, IPv6 literals included."""

from __future__ import annotations

import pytest

from tests.helpers import AppFactory

REFUSED = '<p class="error">This site is not served under that host name.</p>'


@pytest.mark.parametrize(
    ("allowed", "host", "status"),
    (
        ([], "anything.example", 200),
        (["blog.example.com"], "blog.example.com", 200),
        (["blog.example.com"], "blog.example.com:8443", 200),
        (["blog.example.com"], "evil.example", 400),
        (["[::1]"], "[::1]", 200),
        (["blog.example.com"], "BLOG.Example.COM", 200),
        (["blog.example.com"], "BLOG.example.com:8000", 200),
        (["blog.example.com"], "blog.example.com.evil.example", 400),
        (["blog.example.com"], "evil.example:blog.example.com", 400),
        # Only the last colon can start a port.
        (["blog.example.com"], "blog.example.com:evil.example:80", 400),
        # An IPv6 literal's own colons are not a port's.
        (["[::1]"], "[::1]:8000", 200),
        (["[::1]"], "[::2]:8000", 400),
        (["[::1]"], "[::2]", 400),
        (["[::1]"], "[::1]:8000:1", 400),
        (["[2001:db8::1]"], "[2001:DB8::1]:443", 200),
        (["127.0.0.1"], "127.0.0.1:8000", 200),
        (["127.0.0.1"], "[::1]:8000", 400),
    ),
)
async def test_host_without_its_port(
    make_app: AppFactory, allowed: list[str], host: str, status: int
) -> None:
    app = await make_app(ALLOWED_HOSTS=allowed)
    response = await app.test_client().get("/hello", headers={"Host": host})
    assert response.status_code == status
    assert (REFUSED in await response.get_data(as_text=True)) is (status == 400)
