"""The call tester: one simulated call through the real support line, on a scratch copy
of the reference data, with nothing kept. ``rules`` says what a test call is and what
of it is shown (pure); ``engine`` runs it. Imports ``agi`` (the simulated Asterisk),
``flows``, ``store`` and below; the server it calls is built by whoever starts it."""
