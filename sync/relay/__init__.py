"""The hosted relay (``kairan-relay``): an ASGI app over SQLite or PostgreSQL that orders each
association's operations in one log, serves residents' pages and hands their answers back.

Start with :func:`sync.relay.app.create_app` and :mod:`sync.relay.cli`. Nothing here imports Qt.
"""
