"""``circulo churn``: train (with its refusal), models, activate, score; on the test database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from circulo.cli import app as cli
from circulo.cli_churn import EXIT_NO_MODEL, EXIT_TOO_FEW
from circulo.clock import SystemClock
from circulo.config import get_settings
from circulo.context import AppContext
from tests.churn.company import company, load


@pytest.fixture
def on_test_db(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """The command works on the test database; the data is written as of the real now (the
    command's clock)."""
    monkeypatch.setenv("CIRCULO_DATABASE_URL", ctx.settings.database_url or "")
    get_settings.cache_clear()
    ctx.clock = SystemClock()
    yield ctx
    get_settings.cache_clear()


def _run(*args: str, lang: str = "en_GB.UTF-8") -> Any:
    env = {"LANG": lang, "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""}
    return CliRunner().invoke(cli, ["churn", *args], env=env)


def test_help_documents_every_command() -> None:
    result = _run("--help")
    assert result.exit_code == 0
    for command in ("train", "models", "activate", "score"):
        assert command in result.output
    trained = _run("train", "--help")
    assert "held-out" in trained.output and "Exit code 3" in trained.output


def test_train_refuses_too_few_cancellations(on_test_db: AppContext) -> None:
    load(on_test_db, company(on_test_db.clock.now(), 80, leave_share=0.1))
    result = _run("train")
    assert result.exit_code == EXIT_TOO_FEW, result.output
    assert "Nothing was stored" in result.output
    spanish = _run("train", lang="es_ES.UTF-8")
    assert "No se ha guardado nada" in spanish.output
    assert "No churn model yet" in _run("models").output
    score = _run("score")
    assert score.exit_code == EXIT_NO_MODEL and "No active model" in score.output


def test_train_list_activate_and_score(on_test_db: AppContext) -> None:
    load(on_test_db, company(on_test_db.clock.now(), 300, leave_share=0.25))
    first = _run("train")
    assert first.exit_code == 0, first.output
    assert "Churn model v1 stored and active" in first.output
    assert "customers scored with model v1" in first.output
    assert _run("train", "--no-score").exit_code == 0
    listed = _run("models")
    assert listed.exit_code == 0
    lines = [line for line in listed.output.splitlines() if "│" in line or "|" in line]
    assert any(line.split()[1] == "2" or " 2 " in line for line in lines), listed.output
    assert _run("activate", "1").exit_code == 0
    assert _run("activate", "7").exit_code == EXIT_NO_MODEL
    scored = _run("score")
    assert scored.exit_code == 0 and "model v1" in scored.output


@pytest.mark.parametrize("version", ["0", "-1", "2147483648", "99999999999999999999"])
def test_activate_an_impossible_version_is_unknown_not_a_traceback(on_test_db: AppContext,
                                                                   version: str) -> None:
    """Versions are 1 up (as the API's 1 to 1,000,000); past an INTEGER column's range
    PostgreSQL raised NumericValueOutOfRange, shown as a traceback."""
    result = _run("activate", "--", version)
    assert result.exit_code == EXIT_NO_MODEL, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
