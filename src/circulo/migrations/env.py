"""Alembic environment. Run through ``circulo migrate`` (or automatically by serve/demo)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from circulo.auth import models as _auth  # noqa: F401 - register tables
from circulo.campaigns import models as _campaigns  # noqa: F401
from circulo.churn import models as _churn  # noqa: F401
from circulo.connectors import models as _connectors  # noqa: F401
from circulo.console import models as _console  # noqa: F401
from circulo.customers import models as _customers  # noqa: F401
from circulo.db import Base
from circulo.identity import models as _identity  # noqa: F401
from circulo.journeys import models as _journeys  # noqa: F401
from circulo.routing import models as _routing  # noqa: F401
from circulo.speech import models as _speech  # noqa: F401
from circulo.surveys import models as _surveys  # noqa: F401
from circulo.textan import models as _textan  # noqa: F401

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("circulo migrations run with a connection supplied by circulo.migrate")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
