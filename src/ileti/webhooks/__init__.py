"""Delivering the webhook outbox: the sender, its HTTP client, and the check that a receiver's
address is safe to call."""
