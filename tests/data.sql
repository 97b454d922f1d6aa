INSERT INTO "user" (username, password)
VALUES
  ('test', 'pbkdf2:sha256:1000$9qqhH2anpEhvZlta$a2bcb34cbf343832e69de65e325d874968e07f9880f2fc46427909bfa86060b3'),
  ('other', 'pbkdf2:sha256:1000$L0pb64FAdRJwE2kA$cb33010ee2e68c0eed2e5f940ab2748aab4f5f069c7bc550e7c3eaecc25a2f3c');

INSERT INTO post (title, body, author_id, created)
VALUES
  ('test title', 'test
body', 1, '2018-01-01 00:00:00');
