"""The relay's e-mail channel: households whose channel is e-mail get each circular meant for
them (and the safety check) as a short plain mail with a personal link.

``enqueue`` queues ``mail_message`` rows in the same transaction as the circular or safety
check they carry, ``sender`` sends them through the operator's SMTP server at a steady rate
(``compose`` makes the bytes, ``queue`` the durable state changes with their log items for
the office), ``bounce`` takes delivery status notifications, ``links`` serves the personal
links, ``status`` sums the queue up for ``kairan-relay mail status``; ``settings`` says how.
The tables are in :mod:`sync.relay.mail_tables`.
"""
