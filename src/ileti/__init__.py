"""ileti: an SMS gateway serving the TurkeySMS API V4."""

__version__ = "0.1.0"
