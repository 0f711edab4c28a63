"""The call tester: one simulated call through the real support line, on a scratch copy
of the reference data, with nothing kept. ``rules`` says what a test call is and what
of it is shown (pure); ``engine`` runs it. ``load`` is the load tester: many whole
simulated calls at once against a running service's FastAGI port, measured (used by
``bench.load`` and the soak test). Imports ``agi`` (the simulated Asterisk),
``flows``, ``store`` and below; the server it calls is built by whoever starts it."""
