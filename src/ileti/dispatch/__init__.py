"""Dispatch: claim queued messages, route and submit them, follow their receipts, expire them."""
