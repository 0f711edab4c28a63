"""The prompt catalogue (``prompts/catalogue.toml``): each prompt's words, and their build
into Asterisk's sound formats with espeak-ng and sox. Imports only ``runtime``; the
prompt ids the flows play are ``ivr.flows.prompts``, kept equal to it by a test."""
