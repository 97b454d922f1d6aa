"""Flaskr, the Flask tutorial blog, async on Quart and aiosqlite."""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from quart import Quart
from werkzeug.exceptions import RequestEntityTooLarge

from quart_flaskr import imaging
from quart_flaskr import passwords
from quart_flaskr.application import Blog
from quart_flaskr.templating import compile_all
from quart_flaskr.templating import drop_flasks_context_processor


def create_app(test_config: Mapping[str, Any] | None = None) -> Quart:
    """Create and configure an instance of the application.

    This is the one place configuration is read: the defaults below, then the
    instance folder's ``config.py`` (or ``test_config`` in its stead).
    """
    app = Blog(__name__, instance_relative_config=True)
    app.config.from_mapping(
        # Only fit for development: served without debug or testing, the app
        # refuses to start until the instance config.py sets a random key.
        SECRET_KEY="dev",  # noqa: S106
        SECRET_KEY_FALLBACKS=[],
        DATABASE=os.path.join(app.instance_path, "quart_flaskr.sqlite"),
        # A postgresql:// URL puts the blog in PostgreSQL instead, shared by
        # every host that names it (see README); None keeps the SQLite file.
        DATABASE_URL=None,
        # PostgreSQL only: connections each process keeps at most, and the
        # seconds a request waits for one, to connect, or for a statement,
        # before it gets a 503.
        DATABASE_POOL_SIZE=10,
        DATABASE_TIMEOUT=5.0,
        # PostgreSQL only: True keeps statements prepared on the server,
        # planned once per connection (the listing's plan costs the server more
        # than running it). Off by default, as a pooler in transaction mode
        # must follow them: PgBouncer 1.21 or later with max_prepared_statements.
        DATABASE_PREPARED_STATEMENTS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Set True when the site is served over HTTPS (see README).
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        # A login's cookie is sent again, its expiry moved on, once it is this
        # many seconds old (not with every page: re-signing it costs a tenth of
        # a cached page's time).
        SESSION_REFRESH_SECONDS=3600,
        # The sessions page shows when each login was last used: recorded
        # when what is stored is older than this many seconds, so that a
        # reader's requests write at most once in that time.
        LAST_SEEN_SECONDS=300,
        # How long a link made by "reset-link" lets its user set a password.
        PASSWORD_RESET_SECONDS=3600,
        # Werkzeug method for new password hashes: scrypt at OWASP's minimum.
        PASSWORD_HASH_METHOD=passwords.METHOD,
        # Seconds a form's CSRF token stays valid.
        CSRF_TIME_LIMIT=8 * 3600,
        # Strict-Transport-Security max-age in seconds; 0 sends no HSTS header.
        HSTS_SECONDS=0,
        # How many proxies in front of the app to trust for X-Forwarded-For
        # (the client address used by rate limits and logs); 0 trusts none.
        PROXY_TRUSTED_HOPS=0,
        # Host names the app answers to; empty answers to any (see README).
        ALLOWED_HOSTS=[],
        # Login and register attempts per client address are limited, and so
        # are writes per logged-in user (False switches every limit off).
        QUART_RATE_LIMITER_ENABLED=True,
        # Writes each logged-in user may make a minute, counted in the database
        # so every worker process counts the same; 0 leaves a kind unlimited.
        # Up to the number at once, then one more each 60/number seconds. A
        # person takes minutes to write a post, so 10 leaves room to paste in
        # a few written elsewhere while a script is held to one every 6 s.
        POSTS_PER_MINUTE=10,
        # Saving, rereading and fixing a typo takes a person several seconds.
        EDITS_PER_MINUTE=30,
        # Quick replies in a conversation, one every 2 s at the fastest.
        COMMENTS_PER_MINUTE=30,
        # A click each (likes and unlikes count together): a reader liking
        # down a page of posts clicks about once a second.
        LIKES_PER_MINUTE=60,
        # Deleting posts and comments, a click and a confirmation each: as
        # fast as liking, so an author can clear spam from their posts.
        DELETES_PER_MINUTE=60,
        # Authors' submitted posts, edits, comments, likes and deletions each
        # process handles at once; the next wait their turn, readers never do.
        # 64 writers at once lifted readers' p99 from 13 ms to 71 (median of 7
        # runs); with 16 at a time to 45, as many reads and writes a second.
        WRITES_AT_ONCE=16,
        # Forms are small: a post body is at most 20,000 characters.
        MAX_CONTENT_LENGTH=256 * 1024,
        # Rendered pages kept in memory per worker (shared by anonymous readers,
        # per session for logged-in users), and for at most how many seconds;
        # any write to the database drops them.
        PAGE_CACHE_SIZE=128,
        PAGE_CACHE_SECONDS=300,
        # Bytes of listed posts' rendered pieces (and the posts they are kept
        # under) each worker keeps, shared by every page and reader that lists
        # them (fragments.py): 32 MiB hold thousands of posts of a few KB.
        FRAGMENT_CACHE_BYTES=32 * 1024 * 1024,
        # Posts on each page of the index, of a tag and of search results.
        POSTS_PER_PAGE=5,
        # Comments on each page of a post's: a post with thousands of long
        # ones is not one page of megabytes made and sent at once.
        COMMENTS_PER_PAGE=100,
        # URLs in each sitemap: past this many, /sitemap.xml is an index of
        # sitemaps this size. The protocol allows 50,000; a sitemap of 10,000
        # is about 1 MB, built in a few tens of milliseconds.
        SITEMAP_URLS=10_000,
        # Largest image accepted with a post; the forms that take one may be
        # this much larger than MAX_CONTENT_LENGTH.
        MAX_IMAGE_BYTES=4 * 1024 * 1024,
        # The most pixels an image may have (a 24-megapixel phone photo, or
        # a 36-megapixel camera's): a small file may decode to gigabytes.
        MAX_IMAGE_PIXELS=imaging.MAX_PIXELS,
        # Where releases before schema 7 stored uploaded images as files: the
        # data step after the migrations moves the images posts show from
        # there into the database, where images now live.
        UPLOAD_FOLDER=os.path.join(app.instance_path, "uploads"),
        # Python's cyclic garbage collector thresholds while serving (its
        # default is 700, 10, 10). A request makes hundreds of objects that
        # reference counting frees; with the default, the collector ran every
        # request or two and walked the heap of every open connection: with
        # 1,000 connections, 820 us of CPU per request against 570 with these.
        GC_THRESHOLDS=(10_000, 50, 100),
    )

    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    # The instance folder holds the key and the database: its owner's only.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)

    @app.route("/hello")
    async def hello() -> str:
        return "Hello, World!"

    default_thresholds = gc.get_threshold()

    @app.before_serving
    async def compile_templates() -> None:
        compile_all(app)

    @app.before_serving
    async def tune_garbage_collector() -> None:
        gc.set_threshold(*app.config["GC_THRESHOLDS"])
        # What start-up made (modules, templates, the app) lives as long as
        # the process: the collector need not walk it again and again.
        gc.collect()
        gc.freeze()

    @app.after_serving
    async def restore_garbage_collector() -> None:
        gc.unfreeze()
        gc.set_threshold(*default_thresholds)

    from quart_flaskr import assets
    from quart_flaskr import compression
    from quart_flaskr import db
    from quart_flaskr import deploy
    from quart_flaskr import errors
    from quart_flaskr import fastpath
    from quart_flaskr import fragments
    from quart_flaskr import i18n
    from quart_flaskr import limits
    from quart_flaskr import login
    from quart_flaskr import markdown
    from quart_flaskr import pagecache
    from quart_flaskr import proxies
    from quart_flaskr import ratelimit
    from quart_flaskr import routing
    from quart_flaskr import security
    from quart_flaskr import workers
    from quart_flaskr.migrations.data import upgrade_data

    # Before the routes that read numbers from their URLs: it gives them their converters.
    routing.init_app(app)
    # Forms take their maxlength from the limits their views check.
    app.jinja_env.globals["limits"] = limits
    app.add_template_global(markdown.body_html)
    app.add_template_global(markdown.excerpt, "post_excerpt")
    i18n.init_app(app)
    # Security first: its start-up check of the secret key runs before the
    # database is opened.
    security.init_app(app)
    compression.init_app(app)
    assets.init_app(app)
    db.init_app(
        app,
        functools.partial(
            upgrade_data,
            upload_folder=app.config["UPLOAD_FOLDER"],
            max_image_pixels=app.config["MAX_IMAGE_PIXELS"],
        ),
    )
    errors.init_app(app)
    pagecache.init_app(app)
    fragments.init_app(app)
    deploy.init_app(app)
    # After the host and CSRF checks: a request they refuse costs no query
    # for its user.
    login.init_app(app)
    ratelimit.init_app(app)
    # Hashing, Markdown and pictures' threads end when serving does.
    workers.init_app(app)

    from quart_flaskr import account
    from quart_flaskr import auth
    from quart_flaskr import blog
    from quart_flaskr import comments
    from quart_flaskr import crawlers
    from quart_flaskr import feed
    from quart_flaskr import health
    from quart_flaskr import images
    from quart_flaskr import moderation

    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(feed.bp)
    app.register_blueprint(images.bp)
    app.register_blueprint(health.bp)
    account.init_app(app)
    moderation.init_app(app)
    crawlers.init_app(app)
    # Requests to views marked images.accepts_upload may carry an image.
    app.request_class = images.upload_request_class(app)
    app.register_error_handler(RequestEntityTooLarge, images.too_large)
    # The blog's index is the front page; "index" is the name Flaskr's
    # templates and redirects use for it.
    app.add_url_rule("/", endpoint="index")

    drop_flasks_context_processor(app)
    # Anonymous readers' repeated requests for cached pages are answered
    # before the app (inside the proxy middleware: it sees the client's scheme).
    fastpath.init_app(app)

    if app.config["PROXY_TRUSTED_HOPS"]:
        # The client's address and scheme from the last N proxies' headers.
        app.asgi_app = proxies.TrustedProxies(  # type: ignore[method-assign]
            app.asgi_app, app.config["PROXY_TRUSTED_HOPS"]
        )

    return app
