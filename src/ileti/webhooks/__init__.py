"""Webhooks: per-key settings, signed events from an outbox, delivery with retries."""
