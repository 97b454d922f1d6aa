"""A real Chromium for the end-to-end tests, driven by Playwright's sync API.

Playwright drives Debian's Chromium (``apt-get install chromium``), not a
browser of its own: ``playwright install`` downloads one, which is not always
possible. Without a Chromium the browser tests skip, unless screenshots were
asked for (``FLASKR_SCREENSHOTS``), which they then fail to make.

Every tab records what would show in its developer console as a problem:
errors logged, uncaught exceptions and Content-Security-Policy violations.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Literal
from typing import NoReturn

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import ConsoleMessage
from playwright.sync_api import Dialog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import StorageState
from playwright.sync_api import sync_playwright
from playwright.sync_api import WebError

from quart_flaskr import i18n

#: Where ``python3 tasks.py screenshots`` has the tests write their pictures.
SCREENSHOTS_ENV = "FLASKR_SCREENSHOTS"
#: Where Debian's package puts Chromium; other names on PATH are tried after it.
CHROMIUM = "/usr/bin/chromium"
#: No first-run pages, no GPU, and no connections of Chromium's own (updates,
#: sync, field trials): the tests' machines may have no network but loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Milliseconds any one step (a click, a page load, an expectation) may take.
STEP_TIMEOUT = 15_000

#: Reports Content-Security-Policy violations to the console, where the tab
#: collects them, whether or not Chromium logs them itself.
_CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective}`
    + ` blocked ${event.blockedURI || "an inline resource"} on ${location.pathname}`);
});
"""

#: What ``Tab.layout_problems`` finds wrong with the page shown, as a list of sentences.
_LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const root = document.documentElement;
  if (!root.lang) problems.push("<html> has no lang attribute");
  if (root.scrollWidth > window.innerWidth) {
    const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth)
      .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
    problems.push(`scrolls sideways: ${root.scrollWidth} px wide in a`
      + ` ${window.innerWidth} px window, past its right edge: ${wide.slice(0, 5).join(", ")}`);
  }
  const unlabelled = ["hidden", "submit", "button", "reset", "image"];
  for (const field of document.querySelectorAll("input, textarea, select")) {
    if (!unlabelled.includes(field.type) && field.labels.length === 0) {
      problems.push(`form field without a <label>: ${field.outerHTML}`);
    }
  }
  for (const image of document.images) {
    if (!(image.getAttribute("alt") || "").trim()) {
      problems.push(`image without alt text: ${image.outerHTML}`);
    }
    if (image.complete && image.naturalWidth === 0) {
      problems.push(`broken image: ${image.src}`);
    }
  }
  return problems;
}
"""

#: True once every image that is in view has loaded (lazy ones below wait).
_IMAGES_IN_VIEW_LOADED = """
() => [...document.images].every(
  (image) => image.complete || (image.loading === "lazy"
    && image.getBoundingClientRect().top > window.innerHeight))
"""


@dataclass(frozen=True)
class Width:
    """A window size to test at: a phone's (mobile, touch) or a desktop's."""

    name: str
    width: int
    height: int
    mobile: bool


PHONE = Width("phone", 375, 812, mobile=True)
DESKTOP = Width("desktop", 1280, 800, mobile=False)


def screenshot_dir() -> Path | None:
    """Where to write screenshots, when asked for (``FLASKR_SCREENSHOTS``)."""
    value = os.environ.get(SCREENSHOTS_ENV)
    return Path(value) if value else None


def _unavailable(reason: str) -> NoReturn:
    """Skip the browser tests, or fail them when screenshots were asked for."""
    if screenshot_dir() is not None:
        pytest.fail(f"{reason}: no screenshots can be made", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str:
    """Debian's Chromium, or a Chromium on PATH; skips the test when there is none."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable(f"no Chromium at {CHROMIUM} or on PATH (Debian: apt-get install chromium)")
    return path


@contextmanager
def launch(path: str) -> Iterator[Browser]:
    """A headless Chromium for the block, closed at its end; skips the test if it cannot start."""
    expect.set_options(timeout=STEP_TIMEOUT)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            _unavailable(f"Chromium ({path}) does not start: {error.message.splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()


#: axe-core, the accessibility checker, as ``npm ci`` installs it (``tasks.py test`` runs that).
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
#: What axe checks: every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA, and its best
#: practices; WCAG 2.2's target size (24 px) is among them.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}
_AXE_RUN = """async (options) => {
  const results = await axe.run(document, options);
  return results.violations.flatMap((violation) => violation.nodes.map((node) =>
    `${violation.id} (${violation.impact}): ${node.target.join(" ")}: ${node.failureSummary}`));
}"""

#: The browser locale a tab of each of the blog's languages is opened with.
LOCALES = {"en": "en-US", "ru": "ru-RU", "ko": "ko-KR"}


class Words:
    """The interface's words in one language, as the blog's own catalogs have them.

    (Whether each message has a translation is tests/test_translations.py's.)
    """

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalog = i18n.translations(language)

    def __call__(self, message: str, **variables: object) -> str:
        text = self._catalog.gettext(message)
        return text % variables if variables else text

    def count(self, singular: str, plural: str, num: int) -> str:
        text: str = self._catalog.ngettext(singular, plural, num)
        return text % {"num": num}

    def label(self, message: str) -> re.Pattern[str]:
        """A field's label that begins with ``message`` (a hint in small print follows)."""
        return re.compile("^" + re.escape(self(message)))


class Tab:
    """A page in a browser context of its own (own cookies), on the blog at ``base_url``.

    It answers ``confirm()`` with ``self.confirm`` and records what the
    page asked in ``self.dialogs``. Its browser asks for ``language``, and
    ``self.words`` are the blog's words in it.
    """

    def __init__(
        self, context: BrowserContext, base_url: str, width: Width, language: str = "en"
    ) -> None:
        self.context = context
        self.base_url = base_url
        self.width = width
        self.words = Words(language)
        self.page = context.new_page()
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.confirm = True
        context.on("console", self._on_console)
        context.on("weberror", self._on_error)
        self.page.on("dialog", self._on_dialog)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            where = message.location.get("url") or (message.page.url if message.page else "?")
            if urllib.parse.urlsplit(where).path == "/favicon.ico":
                # The browser's own request, on any site without an icon:
                # test_browser.test_favicon checks it.
                return
            self.problems.append(f"console {message.type} on {where}: {message.text}")

    def _on_error(self, error: WebError) -> None:
        where = error.page.url if error.page else "?"
        self.problems.append(f"uncaught error on {where}: {error.error}")

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        if self.confirm:
            dialog.accept()
        else:
            dialog.dismiss()

    @property
    def heading(self) -> Locator:
        """The page's own heading (the site's name in the menu is one too)."""
        return self.page.locator("main > header h1")

    def url(self, path: str) -> str:
        return self.base_url + path

    def visit(self, path: str) -> Page:
        """Load a page; it must answer 200."""
        response = self.page.goto(self.url(path))
        assert response is not None, path
        assert response.status == 200, f"{path}: {response.status}"
        return self.page

    def expect_at(self, path: str) -> None:
        """Wait until the tab shows ``path`` (after a form's redirect, say)."""
        expect(self.page).to_have_url(self.url(path))

    def layout_problems(self) -> list[str]:
        """What is wrong with the page shown: sideways scrolling, unlabelled fields, images."""
        assert self.page.evaluate("window.innerWidth") == self.width.width
        problems: list[str] = self.page.evaluate(_LAYOUT_PROBLEMS)
        return [f"{self.page.url} at {self.width.width} px: {problem}" for problem in problems]

    def accessibility_problems(self) -> list[str]:
        """What axe-core finds wrong on the page shown (the tab must be opened with ``audit``)."""
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: 'npm ci' installs it ('python3 tasks.py test' does)")
        self.page.add_script_tag(path=AXE)
        found: list[str] = self.page.evaluate(_AXE_RUN, AXE_OPTIONS)
        where = f"{self.page.url} at {self.width.width} px"
        return [f"{where}: {problem}" for problem in found]

    def screenshot(self, directory: Path, name: str, full_page: bool = False) -> Path:
        """Save the window (or the whole page) as ``<name>-<width name>.png``, images loaded."""
        if full_page:
            # Lazy images load only when scrolled to.
            self.page.locator("img[loading=lazy]").evaluate_all(
                "images => images.forEach((image) => { image.loading = 'eager'; })"
            )
        self.page.wait_for_function(_IMAGES_IN_VIEW_LOADED)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}-{self.width.name}.png"
        self.page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
        return path

    def _send_credentials(self, path: str, username: str, password: str, button: str) -> None:
        """Fill in the username and password of the form at ``path``, then press ``button``."""
        self.visit(path)
        self.page.get_by_label(self.words("Username")).fill(username)
        self.page.get_by_label(self.words("Password")).fill(password)
        self.page.get_by_role("button", name=self.words(button)).click()

    def register(self, username: str, password: str) -> None:
        self._send_credentials("/auth/register", username, password, "Register")
        self.expect_at("/auth/login")

    def log_in(self, username: str, password: str) -> None:
        self._send_credentials("/auth/login", username, password, "Log In")
        self.expect_at("/")
        expect(self.page.get_by_role("button", name=self.words("Log Out"))).to_be_visible()

    def fill_post(
        self, title: str, body: str, tags: str = "", image: bytes | None = None, alt: str = ""
    ) -> None:
        """Fill in the post editor (new or edit) as shown."""
        page, words = self.page, self.words
        page.get_by_label(words("Title"), exact=True).fill(title)
        page.get_by_label(words.label("Body")).fill(body)
        page.get_by_label(words.label("Tags")).fill(tags)
        if image is not None:
            page.locator("input[type=file]").set_input_files(
                {"name": "picture.png", "mimeType": "image/png", "buffer": image}
            )
        page.get_by_label(words.label("Image description")).fill(alt)

    def write_post(
        self, title: str, body: str, tags: str = "", image: bytes | None = None, alt: str = ""
    ) -> int:
        """Write a post with the editor; its id, read off the index it leads back to."""
        self.visit("/")
        self.page.get_by_role("link", name=self.words("New"), exact=True).click()
        self.expect_at("/create")
        self.fill_post(title, body, tags, image, alt)
        self.page.get_by_role("button", name=self.words("Save")).click()
        self.expect_at("/")
        newest = self.page.locator("article.post").first
        expect(newest.locator("header h2")).to_have_text(title)
        anchor = newest.get_attribute("id")
        assert anchor is not None and anchor.startswith("post-"), anchor
        return int(anchor.removeprefix("post-"))


@contextmanager
def open_tab(
    browser: Browser,
    base_url: str,
    width: Width,
    storage_state: StorageState | None = None,
    language: str = "en",
    color_scheme: Literal["light", "dark"] = "light",
    audit: bool = False,
) -> Iterator[Tab]:
    """A tab at ``width`` with cookies of its own (or ``storage_state``'s); closed afterwards.

    Its browser is set to ``language`` (one of the blog's) and ``color_scheme``, as a
    reader's would be. An ``audit`` tab may add axe's script to pages, past their
    Content-Security-Policy (which is why only those tabs may).
    """
    options: dict[str, Any] = {"is_mobile": True, "has_touch": True} if width.mobile else {}
    context = browser.new_context(
        viewport={"width": width.width, "height": width.height},
        device_scale_factor=1,
        storage_state=storage_state,
        locale=LOCALES[language],
        color_scheme=color_scheme,
        bypass_csp=audit,
        **options,
    )
    try:
        context.set_default_timeout(STEP_TIMEOUT)
        context.add_init_script(_CSP_REPORTER)
        yield Tab(context, base_url, width, language)
    finally:
        context.close()
