-- Schema version 3: rate-limit state shared by every worker process.

CREATE TABLE rate_limit (
  key TEXT PRIMARY KEY,
  tat TIMESTAMP NOT NULL
) WITHOUT ROWID;
