"""The platform's service kit: what every service needs and nothing domain-specific.

Database sessions and the unit of work, the transactional outbox and its relay, the inbox
consumer, the event envelope, problem details, caller identity, logging, health and metrics.
"""
