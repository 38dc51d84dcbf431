"""Registered datasets (see builtin.py for the built-in ones)."""
