-- Schema version 5: Markdown is rendered by pulldown-cmark, in linear time,
-- instead of markdown-it. The HTML stored with posts and comments is made
-- again, by the data step that follows the migrations (see data.py): NULL
-- marks a post's, '' a comment's (the column is NOT NULL) as not yet made.

UPDATE post SET body_html = NULL;
UPDATE comment SET body_html = '';
