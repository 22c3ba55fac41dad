"""Importing the rosters associations already keep in Excel or CSV. No Qt here.

sheets (read a file into rows) → headers (find the header, map columns to fields) →
records (normalise rows into households with members) → plan (diff against the roster, every
row's outcome) → apply (one transaction).
"""
