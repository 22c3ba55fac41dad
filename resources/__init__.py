"""Data files shipped with Kairan: translations, fonts, icons."""
