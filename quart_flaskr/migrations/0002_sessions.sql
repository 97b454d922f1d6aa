-- Schema version 2: server-side login sessions, so that logging out (or a
-- password change) makes a copied session cookie worthless, and the index
-- ordered by date without a full scan.

CREATE TABLE login_session (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires TIMESTAMP NOT NULL
) WITHOUT ROWID;

CREATE INDEX login_session_user ON login_session (user_id);

CREATE INDEX post_created ON post (created DESC, id DESC);
CREATE INDEX post_author ON post (author_id);
