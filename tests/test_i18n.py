"""The interface in English, Russian and Korean: choosing the language, every page in it, plurals.

A page counts as translated when none of its visible text (text, and the
attributes a reader sees or hears: title, alt, placeholder, aria-label, a
button's value) holds a Latin word other than names the blog never translates
(Flaskr, file formats, the switcher's "English") and the data it shows.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from html.parser import HTMLParser

import pytest
from quart import Quart
from quart import render_template_string

from quart_flaskr import i18n
from quart_flaskr.db import Database
from quart_flaskr.i18n import choose_language
from quart_flaskr.i18n import COOKIE
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import ngettext
from quart_flaskr.models import accounts
from quart_flaskr.models import comments
from quart_flaskr.models import likes
from quart_flaskr.models import moderation
from quart_flaskr.models import posts
from tests.harness.forms import csrf_token_in
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import post_form

#: Latin words a Russian or Korean page may show: names, formats, the time
#: zone, and the data of these tests (the seeded users are "test" and "other").
UNTRANSLATED = frozenset(
    {"Flaskr", "English", "Markdown", "JPEG", "PNG", "GIF", "WebP", "KiB", "CSRF", "ASCII", "UTC"}
    | {"python", "async", "test", "other", "RSS"}
)
_SPOKEN_ATTRIBUTES = frozenset({"title", "alt", "placeholder", "aria-label"})


class VisibleText(HTMLParser):
    """The text of a page that a reader sees or a screen reader speaks."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.lang: str | None = None
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if value and (
                name in _SPOKEN_ATTRIBUTES
                or (name == "value" and tag == "input" and values.get("type") == "submit")
                or name == "data-confirm"
            ):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def read_page(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def english_words(html: str) -> set[str]:
    """The Latin words of a page's visible text that are not allowed to stay English."""
    words = set(re.findall(r"[A-Za-z]{2,}", " ".join(read_page(html).parts)))
    return words - UNTRANSLATED


@pytest.mark.parametrize(
    ("chosen", "accepted", "language"),
    (
        (None, [], "en"),
        (None, ["ru-RU", "en"], "ru"),
        (None, ["ko_KR", "ru"], "ko"),
        (None, ["de-DE", "fr"], "en"),
        (None, ["de", "KO"], "ko"),
        ("ko", ["ru"], "ko"),
        ("en", ["ru"], "en"),
        ("xx", ["de", "ru"], "ru"),
        ("", [], "en"),
    ),
)
def test_the_readers_choice_then_the_browsers_then_english(
    chosen: str | None, accepted: list[str], language: str
) -> None:
    assert choose_language(chosen, accepted) == language


def test_outside_a_request_messages_are_english() -> None:
    assert i18n.current_language() == "en"
    assert gettext("Title is required.") == "Title is required."
    assert ngettext("%(num)d like", "%(num)d likes", 2) == "2 likes"


@pytest.mark.parametrize(
    ("count", "likes_ru", "comments_ru"),
    (
        (0, "0 отметок «Нравится»", "0 комментариев"),
        (1, "1 отметка «Нравится»", "1 комментарий"),
        (2, "2 отметки «Нравится»", "2 комментария"),
        (4, "4 отметки «Нравится»", "4 комментария"),
        (5, "5 отметок «Нравится»", "5 комментариев"),
        (11, "11 отметок «Нравится»", "11 комментариев"),
        (12, "12 отметок «Нравится»", "12 комментариев"),
        (21, "21 отметка «Нравится»", "21 комментарий"),
        (22, "22 отметки «Нравится»", "22 комментария"),
        (111, "111 отметок «Нравится»", "111 комментариев"),
    ),
)
async def test_russian_counts_take_their_three_forms(
    app: Quart, count: int, likes_ru: str, comments_ru: str
) -> None:
    async with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        assert ngettext("%(num)d like", "%(num)d likes", count) == likes_ru
        assert ngettext("%(num)d comment", "%(num)d comments", count) == comments_ru
    async with app.test_request_context("/", headers={"Accept-Language": "ko"}):
        assert ngettext("%(num)d like", "%(num)d likes", count) == f"좋아요 {count}개"
    async with app.test_request_context("/"):
        expected = f"{count} like" if count == 1 else f"{count} likes"
        assert ngettext("%(num)d like", "%(num)d likes", count) == expected


@pytest.mark.parametrize(
    ("autoescape", "search", "results"),
    (
        ("true", "Поиск: &lt;b&gt;|Поиск: <i>", "21 комментарий"),
        ("false", "Поиск: <b>|Поиск: <i>", "21 комментарий"),
    ),
)
async def test_templates_messages_escape_what_is_put_into_them(
    app: Quart, autoescape: str, search: str, results: str
) -> None:
    """A template's ``_()`` and ``ngettext()`` translate, then fill in values: escaped when
    the template autoescapes, unless they are markup already (an author's link in a byline)."""
    template = (
        f"{{% autoescape {autoescape} %}}{{{{ _('Search: %(search)s', search='<b>') }}}}|"
        "{{ _('Search: %(search)s', search='<i>'|safe) }}|"
        "{{ ngettext('%(num)d comment', '%(num)d comments', 21) }}{% endautoescape %}"
    )
    async with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        rendered = await render_template_string(template)
    assert rendered == f"{search}|{results}"


async def _blog_in_other_scripts(db: Database) -> int:
    """A post in Russian with a tag, a like and a comment, the only post shown."""
    for post in await posts.select_posts(db, limit=100):
        await posts.delete_post(db, post.id)
    post_id = await posts.insert_post(
        db, 1, "Развертывание в производстве", "Соберите *дистрибутив*.", tags=["заметки"]
    )
    await likes.like_post(db, post_id, 2)
    await comments.insert_comment(db, post_id, 2, "Спасибо!")
    return post_id


PAGES = (
    "/",
    "/?q=%D0%B4%D0%B8%D1%81%D1%82%D1%80%D0%B8%D0%B1%D1%83%D1%82%D0%B8%D0%B2",  # дистрибутив
    "/?q=%D0%BD%D0%B5%D1%82",  # нет
    "/tag/%D0%B7%D0%B0%D0%BC%D0%B5%D1%82%D0%BA%D0%B8",  # заметки
    "/{id}",
    "/auth/login",
    "/auth/register",
    "/u/test",
    "/account/reset/a-token",
)
LOGGED_IN_PAGES = (
    "/",
    "/{id}",
    "/create",
    "/{id}/update",
    "/u/other",
    "/account",
    "/account/password",
    "/account/sessions",
    "/account/delete",
    "/moderation/",
)
#: Error pages, and their status.
ERRORS = {
    "/12345": 404,
    "/tag/%D0%BD%D0%B8%D1%87%D0%B5%D0%B3%D0%BE": 404,  # ничего
    "/?q=" + "x" * 201: 400,
    "/comment/999/delete": 405,
    "/u/%D0%BD%D0%B8%D0%BA%D1%82%D0%BE": 404,  # никто
    "/account/reset/made-up": 404,
    "/?page=99": 404,
    "/?page=abc": 404,
}


@pytest.mark.parametrize("language", ("ru", "ko"))
async def test_every_page_is_in_the_browsers_language(
    client: Client, db: Database, auth: AuthActions, language: str
) -> None:
    post_id = await _blog_in_other_scripts(db)
    headers = {"Accept-Language": f"{language}-XX,{language};q=0.9,en;q=0.5"}
    # A reset link, and a moderator whose page logs each kind of action.
    expires = datetime.now(UTC) + timedelta(hours=1)
    await accounts.insert_password_reset(db, 1, "a-token", expires)
    await moderation.set_moderator(db, "test", True)
    await moderation.suspend_user(db, "test", 2)
    await moderation.restore_user(db, "test", 2)
    doomed = await posts.insert_post(db, 2, "Скоро удалят", "текст")
    doomed_comment = await comments.insert_comment(db, doomed, 2, "х")
    assert doomed_comment is not None
    await moderation.delete_comment(db, "test", doomed_comment.id)
    await moderation.delete_post(db, "test", doomed)

    async def check(path: str, status: int = 200) -> str:
        response = await client.get(path.format(id=post_id), headers=headers)
        assert response.status_code == status, path
        html = await response.get_data(as_text=True)
        assert read_page(html).lang == language, path
        assert english_words(html) == set(), path
        return html

    for path in PAGES:
        await check(path)
    for path, status in ERRORS.items():
        await check(path, status)
    await auth.login()
    for path in LOGGED_IN_PAGES:
        await check(path)
    response = await client.post("/comment/999/delete", headers=headers)
    # A form without its token: the CSRF page.
    assert response.status_code == 400
    assert english_words(await response.get_data(as_text=True)) == set()


async def test_english_pages_are_unchanged(client: Client, db: Database) -> None:
    post_id = await _blog_in_other_scripts(db)
    page = await (await client.get(f"/{post_id}")).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "1 like</span>" in page and ">1 comment</a>" in page
    assert re.search(r'by <a href="/u/test">test</a> on \d{4}-\d\d-\d\d</div>', page)
    assert re.search(r'<a href="/u/other">other</a> on \d{4}-\d\d-\d\d \d\d:\d\d UTC</div>', page)
    assert '<a href="/auth/login">Log in</a> to comment.' in page


async def test_dates_and_counts_in_russian_and_korean(client: Client, db: Database) -> None:
    post_id = await _blog_in_other_scripts(db)
    async with db.transaction() as tx:
        await tx.execute("UPDATE comment SET created = ?", ("2026-12-04 09:05:00",))
    ru = await (await client.get(f"/{post_id}", headers={"Accept-Language": "ru-RU"})).get_data(
        as_text=True
    )
    assert "1 отметка «Нравится»" in ru and "1 комментарий" in ru
    assert "other</a>, 4 декабря 2026, 09:05 UTC" in ru
    assert re.search(r"test</a>, \d{4}-\d\d-\d\d</div>", ru), "post dates stay ISO, as Flaskr shows"
    ko = await (await client.get(f"/{post_id}", headers={"Accept-Language": "ko-KR"})).get_data(
        as_text=True
    )
    assert "좋아요 1개" in ko and "댓글 1개" in ko
    assert "other</a> · 2026년 12월 4일 오전 9:05 UTC" in ko


async def test_messages_are_in_the_readers_language(client: Client, auth: AuthActions) -> None:
    client.set_cookie("localhost", COOKIE, "ru")
    response = await auth.login("nobody", "test")
    assert "Неверное имя пользователя." in await response.get_data(as_text=True)
    response = await auth.register("abcд", "a long password")
    assert (
        "В имени пользователя нельзя смешивать буквы разных алфавитов (латиница, кириллица)."
        in await response.get_data(as_text=True)
    )
    client.set_cookie("localhost", COOKIE, "ko")
    response = await auth.register("test", "a long password")
    assert "test 사용자는 이미 가입되어 있습니다." in await response.get_data(as_text=True)


async def test_the_feed_says_its_language(client: Client) -> None:
    for language, description in (
        ("en", "The newest posts on Flaskr."),
        ("ko", "Flaskr의 최신 글."),
    ):
        response = await client.get("/feed.xml", headers={"Accept-Language": language})
        channel = ET.fromstring(await response.get_data(as_text=False)).find("channel")  # noqa: S314
        assert channel is not None
        assert channel.findtext("language") == language
        assert channel.findtext("description") == description


async def test_pages_are_cached_per_language(client: Client) -> None:
    for _ in range(2):
        for language, word in (("en", "Log In"), ("ru", "Войти"), ("ko", "로그인")):
            response = await client.get("/", headers={"Accept-Language": language})
            assert f">{word}</a>" in await response.get_data(as_text=True)
            # The page's size makes it worth compressing, for browsers that take it.
            assert response.headers["Vary"] == "Accept-Encoding, Cookie, Accept-Language"


async def choose(
    client: Client, form: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[int, str | None, str]:
    """POST the switcher's form: the status, where it redirects, and the cookie it set."""
    if headers is None:
        headers = {"Sec-Fetch-Site": "same-origin"}
    response = await client.post("/language", form=form, headers=headers)
    cookie = response.headers.get("Set-Cookie", "")
    return response.status_code, response.headers.get("Location"), cookie


async def test_the_switcher_remembers_the_choice(client: Client) -> None:
    page = await (await client.get("/?q=x")).get_data(as_text=True)
    # Every page has the switcher, which needs no token: anonymous pages are shared.
    assert 'action="/language"' in page and 'name="next" value="/?q=x"' in page
    assert csrf_token_in(page) is None
    status, location, cookie = await choose(client, {"language": "ko", "next": "/?q=x"})
    assert (status, location) == (302, "/?q=x")
    assert cookie.startswith("lang=ko;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    # The choice wins over the browser's languages.
    response = await client.get("/", headers={"Accept-Language": "ru"})
    page = await response.get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert 'value="ko" lang="ko" aria-pressed="true"' in page
    status, location, cookie = await choose(
        client, {"language": "en", "next": "/1"}, {"Origin": "http://localhost"}
    )
    assert (status, location) == (302, "/1") and cookie.startswith("lang=en;")
    # Served over HTTPS, a page of the site sends its HTTPS origin.
    response = await client.post(
        "/language",
        form={"language": "ru", "next": "/"},
        headers={"Origin": "https://LOCALHOST"},
        scheme="https",
    )
    assert response.status_code == 302 and "lang=ru;" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(
    "path",
    (
        # Cyrillic, Korean and a space: the address as the browser asks for it.
        "/tag/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
        "/tag/%EB%89%B4%EC%8A%A4?page=2",
        "/tag/my%20tag",
        # A % in the path stays a %; the query string keeps the browser's escapes.
        "/tag/100%25?q=%D0%B4%D0%B0+x",
    ),
)
async def test_the_switcher_comes_back_to_pages_in_any_script(client: Client, path: str) -> None:
    page = await (await client.get(path)).get_data(as_text=True)
    assert f'name="next" value="{html.escape(path)}"' in page
    status, location, _ = await choose(client, {"language": "ru", "next": path})
    assert (status, location) == (302, path)


async def test_the_switcher_comes_back_without_what_a_shared_link_added(client: Client) -> None:
    """Only the parameters the page is made from: its search words and page number."""
    path = "/?utm_source=news&q=%D0%B4%D0%B0&fbclid=IwAR1&q=second"
    page = await (await client.get(path)).get_data(as_text=True)
    assert 'name="next" value="/?q=%D0%B4%D0%B0"' in page
    page = await (await client.get("/tag/my%20tag?page=2&ref=mail")).get_data(as_text=True)
    assert 'name="next" value="/tag/my%20tag?page=2"' in page


@pytest.mark.parametrize(
    ("referrer", "back_to"),
    (
        ("http://localhost/1?q=x", "/1?q=x"),
        ("http://localhost/1", "/1"),
        ("https://localhost/1", "/"),
        ("http://evil.example/1", "/"),
        ("http://localhost//evil.example", "/"),
        ("http://[::1", "/"),
        (None, "/"),
    ),
)
async def test_the_switcher_on_a_page_shown_where_a_form_posts_goes_back_to_the_form(
    client: Client, auth: AuthActions, referrer: str | None, back_to: str
) -> None:
    """A refused comment is shown at /1/comment, which only takes POST: switching
    the language there comes back to the post's page, not to a 405."""
    await auth.login()
    token = await csrf_token(client, "/1")
    headers = {} if referrer is None else {"Referer": referrer}
    response = await client.post(
        "/1/comment", form={"body": " ", "csrf_token": token}, headers=headers
    )
    assert response.status_code == 400
    page = await response.get_data(as_text=True)
    assert f'name="next" value="{html.escape(back_to)}"' in page
    status, location, _ = await choose(client, {"language": "ru", "next": back_to})
    assert (status, location) == (302, back_to)
    assert (await client.get(location)).status_code == 200


async def test_the_switcher_stays_under_the_mount_point(app: Quart) -> None:
    client = app.test_client()
    response = await client.get("/blog/1", root_path="/blog")
    page = await response.get_data(as_text=True)
    assert 'name="next" value="/blog/1"' in page
    response = await client.post(
        "/blog/language",
        form={"language": "ru", "next": "https://evil.example/"},
        headers={"Sec-Fetch-Site": "same-origin"},
        root_path="/blog",
    )
    assert response.headers["Location"] == "/blog/"


@pytest.mark.parametrize(
    ("form", "headers", "message"),
    (
        ({"language": "de", "next": "/"}, None, "The blog is not written in that language."),
        ({"language": "ru"}, None, "The form is missing the field(s): next."),
        ({"language": "ru", "next": "/"}, {}, "The form was not sent from this site"),
        ({"language": "ru", "next": "/"}, {"Sec-Fetch-Site": "cross-site"}, "not sent from"),
        ({"language": "ru", "next": "/"}, {"Sec-Fetch-Site": "same-site"}, "not sent from"),
        ({"language": "ru", "next": "/"}, {"Origin": "https://evil.example"}, "not sent from"),
        ({"language": "ru", "next": "/"}, {"Origin": "null"}, "not sent from"),
        # Another scheme is another site, the same host's plain-HTTP pages too.
        ({"language": "ru", "next": "/"}, {"Origin": "https://localhost"}, "not sent from"),
        # The whole of what follows the scheme is the host: no other "://" splits it.
        (
            {"language": "ru", "next": "/"},
            {"Origin": "http://localhost://evil.example"},
            "not sent from",
        ),
        (
            {"language": "ru", "next": "/"},
            {"Origin": "http://evil.example://localhost"},
            "not sent from",
        ),
    ),
)
async def test_the_switcher_refuses_what_no_page_of_ours_sends(
    client: Client, form: dict[str, str], headers: dict[str, str] | None, message: str
) -> None:
    if headers is None:
        headers = {"Sec-Fetch-Site": "same-origin"}
    response = await client.post("/language", form=form, headers=headers)
    assert response.status_code == 400 and "Set-Cookie" not in response.headers
    assert message in await response.get_data(as_text=True)


@pytest.mark.parametrize("target", ("//evil.example/", "https://evil.example/", "/\\evil", ""))
async def test_the_switcher_goes_nowhere_but_this_site(client: Client, target: str) -> None:
    assert (await choose(client, {"language": "ru", "next": target}))[:2] == (302, "/")


async def test_other_forms_still_need_their_token(client: Client, auth: AuthActions) -> None:
    await auth.login()
    response = await client.post(
        "/create", form={"title": "x", "body": ""}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 400


async def test_rate_limit_and_write_messages_in_russian(client: Client, auth: AuthActions) -> None:
    client.set_cookie("localhost", COOKIE, "ru")
    await auth.login()
    response = await post_form(client, "/create", {"title": "", "body": ""})
    assert "Введите заголовок." in await response.get_data(as_text=True)
    response = await post_form(client, "/create", {"title": "x" * 201, "body": ""})
    assert "Заголовок должен быть не длиннее 200 символов." in await response.get_data(as_text=True)


def test_comment_times_follow_each_languages_pattern(app: Quart) -> None:
    moment = datetime(2026, 1, 21, 18, 30)
    assert i18n.format_time(moment, "yyyy-MM-dd HH:mm") == "2026-01-21 18:30 UTC"
