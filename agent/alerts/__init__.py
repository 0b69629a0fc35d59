"""Alerts to supervisors: routing, rendering, a durable outbox, delivery over Apprise."""
