"""End-to-end encryption of what office PCs share through the relay.

The relay orders and stores what the office PCs of one association send each other, but must
never be able to read it. :mod:`sync.e2e.cipher` seals and opens data with the association
key (AES-256-GCM); :mod:`sync.e2e.keys` keeps the versioned association keys and each PC's
device key pair in the OS keyring, wraps a key for another PC's public key, moves the keys to
a new PC with a short transfer code, and derives the recovery key from the 12 words of the
printed recovery sheet. No Qt here.
"""
