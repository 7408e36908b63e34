"""The desktop: server-rendered pages for agents, supervisors and CRM pages.

Each area is a module with a ``router`` (kept out of the OpenAPI document) and, if it has
texts of its own, a catalogue registered in ``circulo.web.texts``; ``install`` mounts them
all with the static files.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from circulo.web import console, customer, desk, pages, recordings, reports, surveys, widget
from circulo.web.common import HERE

# an area module adds itself here
AREAS = (pages, desk, customer, console, reports, recordings, widget, surveys)


def install(app: FastAPI) -> None:
    """The pages of every area, and their CSS and vendored scripts under ``/static/web``."""
    for area in AREAS:
        app.include_router(area.router)
    app.add_middleware(widget.WidgetCors)  # CORS for the CRM widget's origins only
    app.mount("/static/web", StaticFiles(directory=HERE / "static"), name="web-static")
