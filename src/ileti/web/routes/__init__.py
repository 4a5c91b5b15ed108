"""The panel's pages, one module per area; each lists its ``routes``."""
