"""Asterisk IVR for the vendor's partner support line."""
