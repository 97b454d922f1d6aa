-- Schema version 15: login sessions are kept by the SHA-256 of their id, not by the
-- id the browser's cookie carries (see login.stored_id), so a copy of the database
-- logs nobody in. The sessions kept until now are ended rather than rewritten:
-- their ids stay readable in every copy taken before, which then log nobody in
-- either. Everyone logs in once more.

DELETE FROM login_session;
