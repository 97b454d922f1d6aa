-- Schema version 6: usernames compared as Unicode says names that pass for
-- each other should be ("Victim", "victim", full-width "ｖｉｃｔｉｍ" and
-- "victim" with an invisible character are one name).

-- quart_flaskr.usernames.username_key(username): NFKC, case-folded, invisible
-- characters dropped. Computed in Python, since SQLite's lower() knows ASCII
-- only. NULL for users stored before this version (or by a release before it
-- still running during an upgrade) until the data step fills it in; a new
-- registration fills in any missing key before it compares.
ALTER TABLE user ADD COLUMN username_key TEXT;

-- Not UNIQUE: accounts registered before this version may share a key, and
-- keep working (check-deploy lists them).
CREATE INDEX user_username_key ON user (username_key);

-- A new user whose name passes for an existing one is refused by the database
-- itself, whatever code inserts it.
CREATE TRIGGER user_username_key_taken BEFORE INSERT ON user
  WHEN new.username_key IS NOT NULL
    AND EXISTS (SELECT 1 FROM user WHERE username_key = new.username_key)
BEGIN
  SELECT RAISE(ABORT, 'UNIQUE constraint failed: user.username_key');
END;
