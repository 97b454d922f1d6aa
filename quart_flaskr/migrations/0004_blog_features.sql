-- Schema version 4: what the blog grew beyond Flaskr. Rendered Markdown,
-- images, likes, comments, tags and full-text search. Counters and the search
-- index are kept up to date by triggers, so that no code path can forget them
-- and listing a page never has to count or scan.

-- The sanitised HTML of the Markdown body, written with the body. NULL (every
-- post written before this version) means "render when shown", and a release that
-- changes the sanitiser sets it back to NULL.
ALTER TABLE post ADD COLUMN body_html TEXT;
-- The stored file name of the post's image under the uploads folder, never
-- the name the user's file had.
ALTER TABLE post ADD COLUMN image TEXT;
-- The image's alternative text. Empty means "use the title" instead.
ALTER TABLE post ADD COLUMN image_alt TEXT NOT NULL DEFAULT '';
ALTER TABLE post ADD COLUMN like_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE post ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0;

-- One like per user and post: the primary key says so.
CREATE TABLE post_like (
  post_id INTEGER NOT NULL REFERENCES post (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (post_id, user_id)
) WITHOUT ROWID;

CREATE INDEX post_like_user ON post_like (user_id);

CREATE TRIGGER post_like_count_up AFTER INSERT ON post_like BEGIN
  UPDATE post SET like_count = like_count + 1 WHERE id = new.post_id;
END;

CREATE TRIGGER post_like_count_down AFTER DELETE ON post_like BEGIN
  UPDATE post SET like_count = like_count - 1 WHERE id = old.post_id;
END;

CREATE TABLE comment (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  post_id INTEGER NOT NULL REFERENCES post (id) ON DELETE CASCADE,
  author_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  body TEXT NOT NULL,
  body_html TEXT NOT NULL
);

CREATE INDEX comment_post ON comment (post_id, id);
CREATE INDEX comment_author ON comment (author_id);

CREATE TRIGGER comment_count_up AFTER INSERT ON comment BEGIN
  UPDATE post SET comment_count = comment_count + 1 WHERE id = new.post_id;
END;

CREATE TRIGGER comment_count_down AFTER DELETE ON comment BEGIN
  UPDATE post SET comment_count = comment_count - 1 WHERE id = old.post_id;
END;

CREATE TABLE tag (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

-- "created" copies the post's date, so that one index lists a tag's posts
-- newest first without sorting them.
CREATE TABLE post_tag (
  post_id INTEGER NOT NULL REFERENCES post (id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
  created TIMESTAMP NOT NULL,
  PRIMARY KEY (post_id, tag_id)
) WITHOUT ROWID;

CREATE INDEX post_tag_listing ON post_tag (tag_id, created DESC, post_id DESC);

CREATE TRIGGER post_tag_created AFTER UPDATE OF created ON post BEGIN
  UPDATE post_tag SET created = new.created WHERE post_id = new.id;
END;

-- A tag that no post carries any more goes (also when its last post is deleted).
CREATE TRIGGER tag_unused AFTER DELETE ON post_tag BEGIN
  DELETE FROM tag WHERE id = old.tag_id
    AND NOT EXISTS (SELECT 1 FROM post_tag WHERE tag_id = old.tag_id);
END;

-- Full-text search over title, body and author name. Stemmed ("posts" finds
-- "post"), case- and accent-insensitive. A title match weighs most.
CREATE VIRTUAL TABLE post_search USING fts5 (
  title, body, author,
  tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO post_search (post_search, rank) VALUES ('rank', 'bm25(10.0, 1.0, 5.0)');

INSERT INTO post_search (rowid, title, body, author)
  SELECT post.id, post.title, post.body, user.username
  FROM post JOIN user ON user.id = post.author_id;

CREATE TRIGGER post_search_insert AFTER INSERT ON post BEGIN
  INSERT INTO post_search (rowid, title, body, author)
    VALUES (new.id, new.title, new.body, (SELECT username FROM user WHERE id = new.author_id));
END;

CREATE TRIGGER post_search_update AFTER UPDATE OF title, body, author_id ON post BEGIN
  UPDATE post_search
    SET title = new.title, body = new.body,
      author = (SELECT username FROM user WHERE id = new.author_id)
    WHERE rowid = new.id;
END;

CREATE TRIGGER post_search_delete AFTER DELETE ON post BEGIN
  DELETE FROM post_search WHERE rowid = old.id;
END;

CREATE TRIGGER post_search_author AFTER UPDATE OF username ON user BEGIN
  UPDATE post_search SET author = new.username
    WHERE rowid IN (SELECT id FROM post WHERE author_id = new.id);
END;
