"""Allô: the platform behind a national single-number public-information line."""

__version__ = "0.1.0"
