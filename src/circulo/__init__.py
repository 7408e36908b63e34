"""Círculo: a contact center that knows its customers."""

__version__ = "0.1.0"
