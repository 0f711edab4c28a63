"""Where the records live: Redis (every key named in ``keys.py``), the local ticket
journal, PIN hashing and the CSV import service. Each store takes its client and
settings in its constructor; ``Stores`` is the one bag of them. Imports ``config``,
``domain``, ``runtime`` and ``ami``; knows nothing of calls, AGI or the web."""
