"""The customer panel: server-rendered pages (Jinja2, htmx) over the services."""
