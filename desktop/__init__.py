"""Kairan (回覧): the office application of a neighbourhood association."""

__version__ = "0.1.0"
