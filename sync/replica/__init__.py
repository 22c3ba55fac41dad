"""Sharing the roster between an association's office PCs through the relay, end to end
encrypted: changes recorded by triggers (:mod:`~sync.replica.capture`), sealed for the relay
(:mod:`~sync.replica.envelope`), applied in the relay's order (:mod:`~sync.replica.apply`),
snapshots for a new PC (:mod:`~sync.replica.snapshot`), and what the window asks of it
(:mod:`~sync.replica.service`). No Qt."""
