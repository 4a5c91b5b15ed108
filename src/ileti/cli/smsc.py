"""``ileti smsc``: the SMSC simulator as a standalone server."""
