"""Search: ranked full-text matches over titles, authors and bodies, any text taken."""

from __future__ import annotations

from urllib.parse import quote as url_quote

import pytest

from quart_flaskr import search
from quart_flaskr.db import Database
from quart_flaskr.models import posts
from quart_flaskr.models import users
from tests.helpers import add_posts
from tests.helpers import another_connection
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import page_text
from tests.helpers import post_form
from tests.helpers import titles


async def test_search(client: Client, auth: AuthActions, db: Database) -> None:
    await posts.insert_post(db, 2, "Async ideas", "Quart runs on asyncio.")
    await posts.insert_post(db, 1, "Flask", "A post about flasks and async views.")
    await posts.insert_post(db, 1, "Unrelated", "Nothing to see.")

    # Ranked: a match in the title counts more than one in the body.
    assert titles(await page_text(client, "/?q=async")) == ["Async ideas", "Flask"]
    # Every word must match, in any column; words are stemmed and case does not matter.
    assert titles(await page_text(client, "/?q=ASYNC+flask")) == ["Flask"]
    assert titles(await page_text(client, "/?q=posts")) == ["Flask"]
    # The author's name is searched too.
    assert titles(await page_text(client, "/?q=other")) == ["Async ideas"]
    page = await page_text(client, "/?q=nowhere")
    assert titles(page) == []
    assert "No post matches your search." in page
    assert "<title>Search: nowhere - Flaskr</title>" in page
    # The search box keeps the words.
    assert 'name="q" id="search-q" value="nowhere"' in page
    # An empty search is the index.
    assert len(titles(await page_text(client, "/?q=+"))) == 4


async def test_search_ranking(client: Client, db: Database) -> None:
    # Oldest first, so that date alone would give the opposite order.
    # Control characters typed into a title are not taken for found words.
    await posts.insert_post(db, 1, "\x01" * 9 + "Odd", "Quart.")
    await posts.insert_post(db, 1, "Quart and Flask", "Old.")
    await posts.insert_post(db, 1, "On Quart", "Notes.")
    await posts.insert_post(db, 2, "Third", "About quart.")
    await posts.insert_post(db, 1, "Fourth", "Quart, quart and the other one.")
    await posts.insert_post(db, 1, "Flask", "Quart.")

    # The title first, then the author's name, then the body; newest first among equals.
    assert titles(await page_text(client, "/?q=quart")) == [
        "On Quart",
        "Quart and Flask",
        "Flask",
        "Fourth",
        "Third",
    ]
    assert titles(await page_text(client, "/?q=quart&page=2")) == ["\x01" * 9 + "Odd"]
    assert titles(await page_text(client, "/?q=other")) == ["Third", "Fourth"]
    # Each word found in the title counts.
    assert titles(await page_text(client, "/?q=quart+flask")) == ["Quart and Flask", "Flask"]


async def test_search_follows_edits(client: Client, auth: AuthActions) -> None:
    await auth.login()
    assert titles(await page_text(client, "/?q=test")) == ["test title"]
    await post_form(client, "/1/update", {"title": "renamed", "body": "fresh words"})
    assert titles(await page_text(client, "/?q=fresh")) == ["renamed"]
    assert titles(await page_text(client, "/?q=title")) == []
    await post_form(client, "/1/delete", {}, token_from="/1/update")
    assert titles(await page_text(client, "/?q=fresh")) == []


async def test_the_same_search_shows_each_write_and_a_write_from_another_host(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    assert titles(await page_text(client, "/?q=body")) == ["test title"]
    await post_form(client, "/create", {"title": "second", "body": "more body"})
    assert titles(await page_text(client, "/?q=body")) == ["second", "test title"]
    elsewhere = another_connection(db)
    try:
        await posts.insert_post(elsewhere, 2, "third", "body elsewhere")
    finally:
        await elsewhere.close()
    assert titles(await page_text(client, "/?q=body")) == ["third", "second", "test title"]
    await post_form(client, "/1/delete", {}, token_from="/1/update")
    assert titles(await page_text(client, "/?q=body")) == ["third", "second"]


@pytest.mark.parametrize(
    "query",
    (
        '"',
        '"unbalanced',
        "'",
        "*",
        "a*",
        "^test",
        "NEAR(test body)",
        "NEAR(",
        "(",
        ")",
        "test OR",
        "AND",
        "NOT test",
        "-test",
        "title:test",
        "{title body}:test",
        "test + body",
        "\u00fcn\u00efc\u00f8d\u00e9 \u65e5\u672c\u8a9e \U0001f600",
        "%",
        "\\",
    ),
)
async def test_search_takes_any_text(client: Client, query: str) -> None:
    response = await client.get("/", query_string={"q": query})
    assert response.status_code == 200


async def test_search_finds_words_next_to_symbols(client: Client) -> None:
    assert titles(await page_text(client, '/?q="test"')) == ["test title"]
    assert titles(await page_text(client, "/?q=(test)")) == ["test title"]


async def test_search_ranks_the_newest_matches(
    client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_posts(db, 4, tags=["t"])
    await posts.insert_post(db, 1, "Other", "A post.")
    await posts.insert_post(db, 1, "Newest", "Post.")
    monkeypatch.setattr(posts, "SEARCH_WINDOW", 3)
    # The three newest matches ranked (the title match first), then the older
    # matches by date, the page crossing from one to the other.
    page = await page_text(client, "/?q=post")
    assert titles(page) == ["post 4", "Newest", "Other", "post 3", "post 2"]
    assert 'rel="next"' in page
    page = await page_text(client, "/?q=post&page=2")
    assert titles(page) == ["post 1"]
    assert 'rel="next"' not in page
    # Within a tag, the three newest matches with the tag, then the older one.
    assert titles(await page_text(client, "/tag/t?q=post")) == [
        "post 4",
        "post 3",
        "post 2",
        "post 1",
    ]


@pytest.mark.parametrize("tagged", (False, True))
async def test_search_pages_show_every_match_once(
    db: Database, monkeypatch: pytest.MonkeyPatch, tagged: bool
) -> None:
    await add_posts(db, 7, tags=["t"])
    for number in range(5):
        await posts.insert_post(db, 2, f"other {number}", "About a post.", tags=["t"])
    await posts.insert_post(db, 1, "untagged", "A post.")
    await posts.insert_post(db, 1, "unrelated", "Nothing.")
    tag = "t" if tagged else None
    matching = await posts.select_posts(db, limit=100, tag=tag)
    expected = {post.id for post in matching if "post" in post.body.lower() + post.title}
    assert len(expected) == (12 if tagged else 13)

    for window in (1, 4, 5, 6, 12, 13, 50):
        monkeypatch.setattr(posts, "SEARCH_WINDOW", window)
        found = await posts.select_posts(db, limit=100, search="post", tag=tag)
        ids = [post.id for post in found]
        assert sorted(ids) == sorted(expected), window
        # The newest `window` matches come first, the title matches among them
        # first; the rest follow newest first.
        newest = sorted(expected, reverse=True)[:window]
        assert set(ids[:window]) == set(newest)
        ranked = [post.title.startswith("post") for post in found[:window]]
        assert ranked == sorted(ranked, reverse=True)
        assert ids[window:] == sorted(ids[window:], reverse=True)
        for size in (1, 2, 5):
            paged: list[int] = []
            for offset in range(0, len(ids) + size, size):
                page = await posts.select_posts(
                    db, limit=size, offset=offset, search="post", tag=tag
                )
                paged += [post.id for post in page]
            assert paged == ids, (window, size)


async def test_search_too_long(client: Client) -> None:
    response = await client.get("/", query_string={"q": "x" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in await response.get_data(as_text=True)
    # At the limit, it is a search.
    response = await client.get("/", query_string={"q": "x" * 200})
    assert response.status_code == 200
    assert "No post matches your search." in await response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "message"),
    (
        ("en", "A search can be at most 200 characters long."),
        ("ru", "Поисковый запрос должен быть не длиннее 200 символов."),
    ),
)
async def test_a_search_too_long_says_so_in_the_readers_language(
    client: Client, language: str, message: str
) -> None:
    response = await client.get(
        "/", query_string={"q": "x" * 201}, headers={"Accept-Language": language}
    )
    assert response.status_code == 400
    assert f'<p class="error">{message}</p>' in await response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "message"),
    (
        ("en", "The search holds characters that are not valid text."),
        ("ru", "В поисковом запросе есть символы, которые не являются текстом."),
        ("ko", "검색어에 올바른 텍스트가 아닌 문자가 있습니다."),
    ),
)
@pytest.mark.parametrize("search", ("a\x00b", "a\x01b", "\x7f", "x\x9b", "\ufffe"))
async def test_a_search_holding_control_characters_is_refused(
    client: Client, language: str, message: str, search: str
) -> None:
    """As forms refuse them: the page would show them as they came, in its title and box."""
    for path in ("/", "/tag/anything"):
        response = await client.get(
            path, query_string={"q": search}, headers={"Accept-Language": language}
        )
        assert response.status_code == 400
        page = await response.get_data(as_text=True)
        assert f'<p class="error">{message}</p>' in page
        assert search not in page
    # Tabs and line breaks are typed text: a search, as spaces between its words.
    response = await client.get("/", query_string={"q": "a\tb\nc"})
    assert response.status_code == 200


async def test_search_pages(client: Client, db: Database) -> None:
    await add_posts(db, 7)
    page = await page_text(client, "/?q=post")
    assert len(titles(page)) == 5
    assert 'rel="next" href="/?q=post&amp;page=2"' in page
    page = await page_text(client, "/?q=post&page=2")
    assert len(titles(page)) == 2
    assert 'rel="prev" href="/?q=post"' in page


@pytest.mark.parametrize(
    ("text", "expression", "tsquery"),
    (
        ("async views", '"async" "view"', "'async' & 'view'"),
        # Control characters and DEL separate words, like spaces.
        ("a\x01b\x1fc\x7fd", '"a" "b" "c" "d"', "'a' & 'b' & 'c' & 'd'"),
        ("\x00\t\n", "", ""),
        # Quotes, operators and FTS5's syntax are only ever separators or words.
        ('say "hi"', '"say" "hi"', "'say' & 'hi'"),
        ("~a* ^b", '"a" "b"', "'a' & 'b'"),
        ("NEAR(x OR y) title:z", '"near" "x" "or" "y" "titl" "z"', None),
        ("a & !b | c <-> d:* 'e'", '"a" "b" "c" "d" "e"', "'a' & 'b' & 'c' & 'd' & 'e'"),
        # A CJK word of two or more characters is a phrase of its bigrams.
        ("서버에 휠", '"서버 버에" "휠"', "'서버' & '버에' & '휠'"),
        # A word repeated, or two stemming alike, is looked up once.
        ("post posts POST", '"post"', "'post'"),
    ),
)
def test_match_expression(text: str, expression: str, tsquery: str | None) -> None:
    assert posts.match_expression(text) == expression
    if tsquery is not None:
        assert posts.tsquery_text(text) == tsquery


def test_match_expression_looks_up_the_first_words_only() -> None:
    words = [f"w{number}" for number in range(search.SEARCH_WORDS_MAX + 5)]
    expected = " ".join(f'"{word}"' for word in words[: search.SEARCH_WORDS_MAX])
    assert posts.match_expression(" ".join(words)) == expected


#: Real sentences in each language, and a post mixing scripts; "Мария" writes the Russian one.
MULTILINGUAL = (
    (
        "Развертывание в производстве",
        "Если вы хотите развернуть свое приложение на другом сервере, соберите дистрибутив.",
    ),
    ("운영 환경", "애플리케이션을 프로덕션 서버에 배포하려면 휠 파일을 만듭니다."),
    (
        "Deploying to Production",
        "If you want to deploy your application to another server, build a wheel file.",
    ),
    ("Quartсервер notes", "Quart서버 meets the café crowd."),
)


async def add_multilingual_posts(db: Database) -> None:
    maria = await users.insert_user(db, "Мария", "hash")
    assert maria is not None
    for number, (title, body) in enumerate(MULTILINGUAL):
        await posts.insert_post(db, maria if number == 0 else 1, title, body, tags=["하나"])


@pytest.mark.parametrize(
    ("query", "found"),
    (
        # Russian: the same word in any form, in any case.
        ("развертывания", ["Развертывание в производстве"]),
        ("приложения", ["Развертывание в производстве"]),
        ("дистрибутив", ["Развертывание в производстве"]),
        # (The mixed post has the word in its title: it ranks first.)
        ("Сервере", ["Quartсервер notes", "Развертывание в производстве"]),
        ("развернуть производство", ["Развертывание в производстве"]),
        # The author's name, in another case.
        ("Марии", ["Развертывание в производстве"]),
        ("сервис", []),
        # Korean: words with their particles, and one syllable.
        # (The mixed post has it too, in its body, and is newer.)
        ("서버", ["Quartсервер notes", "운영 환경"]),
        ("파일", ["운영 환경"]),
        ("애플리케이션", ["운영 환경"]),
        ("프로덕션", ["운영 환경"]),
        ("배포", ["운영 환경"]),
        ("휠", ["운영 환경"]),
        ("서버 파일", ["운영 환경"]),
        # Bigrams that are not in the text, or not one after the other.
        ("버서", []),
        ("션애", []),
        ("서버를", []),
        ("파일서버", []),
        # English: stems, case and accents.
        ("deployed applications", ["Deploying to Production"]),
        ("WHEELS", ["Deploying to Production"]),
        ("cafe", ["Quartсервер notes"]),
        ("CAFÉS", ["Quartсервер notes"]),
        # Mixed scripts: each script's part of a word is a word.
        ("сервер", ["Quartсервер notes", "Развертывание в производстве"]),
        ("quart", ["Quartсервер notes"]),
        ("Quartсервер", ["Quartсервер notes"]),
        ("quart서버", ["Quartсервер notes"]),
        # Every word must match, whatever its language.
        ("server сервер", []),
        ("server", ["Deploying to Production"]),
        # Syntax is never more than separators.
        ('"приложение" (дистрибутив*) -^:', ["Развертывание в производстве"]),
        ("서버 & !파일 | <-> :*", ["운영 환경"]),
    ),
)
async def test_search_in_english_russian_and_korean(
    db: Database, query: str, found: list[str]
) -> None:
    await add_multilingual_posts(db)
    result = await posts.select_posts(db, limit=10, search=query)
    assert [post.title for post in result] == found


async def test_search_within_a_tag_in_any_script(client: Client, db: Database) -> None:
    await add_multilingual_posts(db)
    tag = url_quote("/tag/하나")
    assert len(titles(await page_text(client, tag))) == len(MULTILINGUAL)
    assert titles(await page_text(client, f"{tag}?q=%ED%8C%8C%EC%9D%BC")) == ["운영 환경"]
    page = await page_text(client, f"{tag}?q=" + url_quote("приложения"))
    assert titles(page) == ["Развертывание в производстве"]


async def test_search_ranks_titles_in_any_script(db: Database) -> None:
    for title, body in (("Сервер", "Текст."), ("Заметки", "Сервер, сервера."), ("서버", "본문")):
        await posts.insert_post(db, 1, title, body)
    await posts.insert_post(db, 1, "메모", "서버에 서버를 서버로")
    found = await posts.select_posts(db, limit=10, search="серверы")
    assert [post.title for post in found] == ["Сервер", "Заметки"]
    found = await posts.select_posts(db, limit=10, search="서버")
    assert [post.title for post in found] == ["서버", "메모"]
