"""The HTTP API: the V4 contract over FastAPI."""
