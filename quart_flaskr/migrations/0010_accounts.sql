-- Schema version 10: accounts people manage and a blog its moderators keep
-- (see quart_flaskr/account.py and quart_flaskr/moderation.py).
--
-- user.joined: when the account was made; NULL for accounts from before this
-- version (pages say the date is not known). user.moderator: 1 for the users
-- an operator made moderators. user.suspended: when a moderator suspended the
-- account, NULL while it is not: a suspended user cannot log in, and their
-- posts and comments are hidden until a moderator restores the account.
ALTER TABLE user ADD COLUMN joined TIMESTAMP;
ALTER TABLE user ADD COLUMN moderator INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user ADD COLUMN suspended TIMESTAMP;

-- What the sessions page shows of each login: the browser it was made in, as
-- its User-Agent said, and when it was last used (written at most every few
-- minutes, not at every request; NULL until first written).
ALTER TABLE login_session ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE login_session ADD COLUMN last_seen TIMESTAMP;

-- A profile lists its author's posts newest first, from this index alone;
-- it serves the author's foreign key too, as post_author did.
CREATE INDEX post_author_created ON post (author_id, created DESC, id DESC);
DROP INDEX post_author;

-- The front page and a tag's listings pass over the posts of suspended users: the
-- date index carries each post's author so that no row is read for it, and
-- the few suspended users are found without reading the others.
DROP INDEX post_created;
CREATE INDEX post_created ON post (created DESC, id DESC, author_id);
CREATE INDEX user_suspended ON user (suspended) WHERE suspended IS NOT NULL;

-- One-time links to set a new password, made by the reset-link command: only
-- the SHA-256 of the link's random token is kept, and a row is deleted when
-- its link is used.
CREATE TABLE password_reset (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
  expires TIMESTAMP NOT NULL
) WITHOUT ROWID;

CREATE INDEX password_reset_user ON password_reset (user_id);

-- Every moderation action: who took it (their name, kept when the account
-- goes), what it was (action: delete-post, delete-comment, suspend, restore),
-- what it was taken on (subject: a post's title, a comment's beginning, a
-- user's name), and when.
CREATE TABLE moderation_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  moderator TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
