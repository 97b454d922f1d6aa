-- Schema version 8: search understands English, Russian and Korean, and finds
-- the same posts on SQLite and PostgreSQL. The words are analysed in Python
-- (quart_flaskr/search.py), never by a database: each post stores its title's,
-- author's and body's terms, each term between two spaces, written with the
-- post in its own transaction. The full-text index holds exactly those terms:
-- its 'ascii' tokenizer splits them at the spaces and changes nothing else
-- (they hold no other ASCII character than lower-case letters and digits).
--
-- NULL terms mark a post not analysed yet: every post from before this
-- version, until the data step after the migrations (see data.py) stores them.

DROP TRIGGER post_search_insert;
DROP TRIGGER post_search_update;
DROP TRIGGER post_search_delete;
-- It kept the index up to date when a user was renamed; no code renames users.
DROP TRIGGER post_search_author;
DROP TABLE post_search;

ALTER TABLE post ADD COLUMN search_title TEXT;
ALTER TABLE post ADD COLUMN search_author TEXT;
ALTER TABLE post ADD COLUMN search_body TEXT;

-- An external-content index over the terms: it keeps no copy of them.
CREATE VIRTUAL TABLE post_search USING fts5 (
  search_title, search_author, search_body,
  content = 'post', content_rowid = 'id',
  tokenize = 'ascii'
);

-- Only what a post stores is copied into the index: nothing is analysed here.
CREATE TRIGGER post_search_insert AFTER INSERT ON post
  WHEN new.search_body IS NOT NULL
BEGIN
  INSERT INTO post_search (rowid, search_title, search_author, search_body)
    VALUES (new.id, new.search_title, new.search_author, new.search_body);
END;

CREATE TRIGGER post_search_update AFTER UPDATE OF search_title, search_author, search_body ON post
BEGIN
  INSERT INTO post_search (post_search, rowid, search_title, search_author, search_body)
    SELECT 'delete', old.id, old.search_title, old.search_author, old.search_body
    WHERE old.search_body IS NOT NULL;
  INSERT INTO post_search (rowid, search_title, search_author, search_body)
    SELECT new.id, new.search_title, new.search_author, new.search_body
    WHERE new.search_body IS NOT NULL;
END;

CREATE TRIGGER post_search_delete AFTER DELETE ON post
  WHEN old.search_body IS NOT NULL
BEGIN
  INSERT INTO post_search (post_search, rowid, search_title, search_author, search_body)
    VALUES ('delete', old.id, old.search_title, old.search_author, old.search_body);
END;
