"""Outbox, relay client and wire protocol (coming with the relay issue). No Qt here."""
