"""Tests of the general meeting (総会) tally."""
