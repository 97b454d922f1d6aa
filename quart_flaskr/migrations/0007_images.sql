-- Schema version 7: posts' images in the database instead of files in the
-- uploads folder, so that every host serving the blog from one database has
-- them, and a backup of the database holds them. The data step after the
-- migrations (see data.py) moves the files posts name into this table.

-- name: the stored name post.image holds, 22 random URL-safe characters and
-- the kind's extension (which gives the content type); never the name the
-- user's file had, and never given to other bytes. A post writes, replaces
-- and deletes its image's row in its own transaction.
CREATE TABLE image (
  name TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) WITHOUT ROWID;
