"""Server-rendered pages of the agent desktop (Jinja2 + htmx); not part of the JSON API."""
