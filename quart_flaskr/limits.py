"""The length limits of what users type, in characters: checked by the views, shown by the forms.

Templates take them from here (the ``limits`` global), so a form's ``maxlength``
is always the limit its view checks.
"""

from __future__ import annotations

USERNAME_MAX = 32
PASSWORD_MIN = 8
PASSWORD_MAX = 256

TITLE_MAX = 200
BODY_MAX = 20_000
IMAGE_ALT_MAX = 200
#: Characters in one tag, and tags on one post.
TAG_MAX = 32
TAGS_MAX = 10
#: What the tags field lets a browser type: room for ``TAGS_MAX`` tags of
#: ``TAG_MAX`` characters and the ", " between them. The view checks the tags.
TAGS_FIELD_MAX = 400

COMMENT_MAX = 5_000
SEARCH_MAX = 200
