"""The prompt catalogue (``prompts/catalogue.toml``): each prompt's words, and their build
into Asterisk's sound formats with espeak-ng and sox. Imports nothing of the project;
the prompt ids the flows play are ``ivr.flows.prompts``, kept equal to the catalogue
by a test.
"""
