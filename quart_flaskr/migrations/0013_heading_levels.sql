-- Schema version 13: a Markdown heading is one level lower in HTML ("#" an
-- <h2>), so that a post's page keeps one <h1>, its title; a picture inside a
-- link is its description alone. The HTML stored with
-- posts and comments is made again by the data step that follows the
-- migrations (see data.py): NULL marks a post's, '' a comment's (the column is
-- NOT NULL) as not yet made.

UPDATE post SET body_html = NULL;
UPDATE comment SET body_html = '';
