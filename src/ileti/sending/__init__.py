"""Accepting messages: every door (the API, the panel, file campaigns, the customer CLI) sends
through this service, so every message is checked, priced, billed and queued the same way."""
