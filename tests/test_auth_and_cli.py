"""API keys and scopes, the ``circulo`` command (keys, import), and the OpenAPI document."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from circulo.app import create_app
from circulo.auth import service as auth
from circulo.cli import app as cli
from circulo.clock import FixedClock
from circulo.config import Settings, get_settings
from circulo.context import AppContext
from circulo.errors import NotFound, ValidationFailed
from circulo.wiring import build_context
from tests.conftest import NOW, Api, assert_problem, make_key
from tests.factories import customer, event


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- API keys ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "url"), [
    ("get", "/v1/cards?phone=600123456"),
    ("post", "/v1/events"),
    ("get", "/v1/customers/abc"),
    ("get", "/v1/customers/abc/export"),
])
def test_a_missing_key_is_401(api: Api, method: str, url: str) -> None:
    kwargs: dict[str, Any] = {"json": event(at=NOW)} if method == "post" else {}
    response = getattr(api.client, method)(url, **kwargs)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("secret", ["", "not-a-key", "ck_", "ck_abc_def", "ck_000000000000_x"])
def test_an_unknown_key_is_401(api: Api, secret: str) -> None:
    response = api.client.get("/v1/cards", params={"phone": "600123456"},
                              headers=_bearer(secret))
    assert_problem(response, 401, "unauthorized")


def test_a_tampered_key_is_401(api: Api, ctx: AppContext) -> None:
    key = make_key(ctx, ["read"])
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = api.client.get("/v1/cards", params={"phone": "600123456"},
                              headers=_bearer(tampered))
    assert_problem(response, 401, "unauthorized")


def test_the_key_may_come_in_x_api_key(api: Api, ctx: AppContext) -> None:
    key = make_key(ctx, ["read"])
    response = api.client.get("/v1/cards", params={"phone": "600123456"},
                              headers={"X-API-Key": key})
    assert response.status_code == 200, response.text


def test_a_revoked_key_is_401(api: Api, ctx: AppContext) -> None:
    key = make_key(ctx, ["read"])
    query = {"phone": "600123456"}
    assert api.client.get("/v1/cards", params=query, headers=_bearer(key)).status_code == 200
    prefix = key.removeprefix("ck_").split("_", 1)[0]
    with ctx.db.unit_of_work() as session:
        revoked = auth.revoke_key(session, prefix, NOW)
        assert revoked.revoked_at is not None
    ctx.forget_keys()
    response = api.client.get("/v1/cards", params=query, headers=_bearer(key))
    body = assert_problem(response, 401, "unauthorized")
    assert "revoked" in body["detail"]
    # Other keys keep working.
    assert api.get("/v1/cards", params=query).status_code == 200


def test_revoking_an_unknown_prefix_is_not_found(ctx: AppContext) -> None:
    with pytest.raises(NotFound), ctx.db.unit_of_work() as session:
        auth.revoke_key(session, "nope", NOW)


def test_scopes_are_checked(api: Api, ctx: AppContext) -> None:
    ingest = _bearer(make_key(ctx, ["ingest"], name="pbx"))
    read = _bearer(make_key(ctx, ["read"], name="desktop"))
    client = api.client

    response = client.post("/v1/events", json=customer("CRM-1", phone="600123456"),
                           headers=ingest)
    assert response.status_code == 200, response.text
    customer_id = response.json()["results"][0]["customer_id"]

    body = assert_problem(client.get("/v1/cards", params={"phone": "600123456"}, headers=ingest),
                    403, "forbidden")
    assert body["scope"] == "read"
    assert_problem(client.get(f"/v1/customers/{customer_id}", headers=ingest), 403, "forbidden")

    assert client.get("/v1/cards", params={"phone": "600123456"},
                      headers=read).status_code == 200
    body = assert_problem(client.post("/v1/events", json=event(at=NOW), headers=read), 403,
                    "forbidden")
    assert body["scope"] == "ingest"
    body = assert_problem(client.get(f"/v1/customers/{customer_id}/export", headers=read), 403,
                    "forbidden")
    assert body["scope"] == "admin"
    assert_problem(client.delete(f"/v1/customers/{customer_id}", headers=read), 403, "forbidden")


def test_unknown_scopes_are_refused(ctx: AppContext) -> None:
    with pytest.raises(ValidationFailed), ctx.db.unit_of_work() as session:
        auth.create_key(session, "x", ["superuser"], NOW)
    with pytest.raises(ValidationFailed), ctx.db.unit_of_work() as session:
        auth.create_key(session, "x", [], NOW)


# --- the circulo command -----------------------------------------------------------------------

@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite file for the command; the environment points the CLI at it."""
    url = f"sqlite:///{tmp_path / 'cli' / 'x.db'}"
    assert url.startswith("sqlite:////")
    monkeypatch.setenv("CIRCULO_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


ApiOnCliDb = Callable[[], tuple[TestClient, AppContext]]


@pytest.fixture
def cli_api(cli_db: str) -> Iterator[ApiOnCliDb]:
    """The HTTP API over the command's database (built on demand: after the command ran)."""
    contexts: list[AppContext] = []

    def build() -> tuple[TestClient, AppContext]:
        ctx = build_context(Settings(database_url=cli_db), FixedClock(NOW))
        contexts.append(ctx)
        return TestClient(create_app(ctx.settings, ctx=ctx)), ctx

    yield build
    for ctx in contexts:
        ctx.db.dispose()


def _run(*args: str, lang: str = "en_GB.UTF-8") -> Any:
    env = {"LANG": lang, "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""}
    return CliRunner().invoke(cli, list(args), env=env)


def test_keys_create_prints_a_key_that_works(cli_api: ApiOnCliDb) -> None:
    result = _run("keys", "create", "--name", "agent-desktop", "--scope", "read")
    assert result.exit_code == 0, result.output
    secrets = [line.strip() for line in result.output.splitlines()
               if line.strip().startswith("ck_")]
    assert len(secrets) == 1, result.output
    secret = secrets[0]
    client, _ = cli_api()
    with client:
        response = client.get("/v1/cards", params={"phone": "600123456"},
                              headers=_bearer(secret))
        assert response.status_code == 200, response.text
        assert response.json()["match"] == "none"
        # read only: no ingest
        assert client.post("/v1/events", json=event(at=NOW),
                           headers=_bearer(secret)).status_code == 403

    listed = _run("keys", "list")
    assert listed.exit_code == 0, listed.output
    assert "agent-desktop" in listed.output
    assert secret not in listed.output
    assert "active" in listed.output

    prefix = secret.removeprefix("ck_").split("_", 1)[0]
    revoked = _run("keys", "revoke", prefix)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in _run("keys", "list").output
    client, _ = cli_api()
    with client:
        response = client.get("/v1/cards", params={"phone": "600123456"},
                              headers=_bearer(secret))
        assert response.status_code == 401


def test_keys_create_refuses_an_unknown_scope(cli_db: str) -> None:
    result = _run("keys", "create", "--name", "x", "--scope", "root")
    assert result.exit_code != 0
    assert "ck_" not in result.output


CSV_ROWS = [
    ["id", "first_name", "last_name", "phone", "email", "external_id.crm",
     "consent.sms.marketing", "language"],
    ["r1", "Ana", "García", "600 111 001", "ana@example.es", "C-1", "true", "es"],
    ["r2", "Luis", "Pérez", "xx-bad", "luis@example.es", "C-2", "false", "en"],
    ["r3", "Eva", "Ruiz", "+34 600 111 003", "", "C-3", "no", "en"],
    ["r4", "Pablo", "Sanz", "", "pablo@example.es", "C-4", "", ""],
]


def test_import_customers_reports_the_bad_row_and_imports_the_others(
        cli_api: ApiOnCliDb, tmp_path: Path) -> None:
    path = tmp_path / "clientes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(CSV_ROWS)
    report = tmp_path / "errors.csv"
    result = _run("import", str(path), "--source", "crm", "--errors-file", str(report))
    assert result.exit_code == 0, result.output
    assert "3 accepted" in result.output
    assert "1 rejected" in result.output
    assert "of 4 rows" in result.output
    assert "row 2: identifiers.phone" in result.output
    with report.open(encoding="utf-8") as handle:
        [error] = list(csv.DictReader(handle))
    assert (error["row"], error["field"], error["code"]) == ("2", "identifiers.phone",
                                                             "invalid_phone")
    # The same file again, for a Spanish-speaking operator: all duplicates, told in Spanish.
    again = _run("import", str(path), "--source", "crm", lang="es_ES.UTF-8")
    assert "0 aceptadas, 3 duplicadas, 1 rechazadas de 4 filas" in again.output
    assert "fila 2: identifiers.phone" in again.output

    client, ctx = cli_api()
    headers = _bearer(make_key(ctx, ["admin"]))
    with client:
        def card(**query: str) -> dict[str, Any]:
            response = client.get("/v1/cards", params=query, headers=headers)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        ana = card(phone="600111001")
        assert ana["match"] == "unique"
        assert ana["card"]["name"] == "Ana García"
        assert card(email="ana@example.es")["card"]["customer_id"] == ana["card"]["customer_id"]
        assert card(external_id="crm:C-1")["card"]["customer_id"] == ana["card"]["customer_id"]
        profile = client.get(f"/v1/customers/{ana['card']['customer_id']}",
                             headers=headers).json()
        assert profile["traits"]["language"] == "es"
        assert profile["consent"]["sms"]["marketing"]["granted"] is True
        assert profile["provenance"]["first_name"]["source"] == "crm"
        eva = card(external_id="crm:C-3")["card"]
        assert eva["name"] == "Eva Ruiz"
        eva_profile = client.get(f"/v1/customers/{eva['customer_id']}", headers=headers).json()
        assert eva_profile["consent"]["sms"]["marketing"]["granted"] is False
        assert card(external_id="crm:C-4")["card"]["name"] == "Pablo Sanz"
        # The bad row was not imported at all.
        assert card(external_id="crm:C-2")["match"] == "none"
        assert card(email="luis@example.es")["match"] == "none"

    # Importing the same file again creates nothing new: the row ids make it idempotent.
    again = _run("import", str(path), "--source", "crm")
    assert "0 accepted" in again.output
    assert "3 duplicates" in again.output


def test_import_of_only_bad_rows_fails(cli_db: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([CSV_ROWS[0], CSV_ROWS[2]])
    result = _run("import", str(path))
    assert result.exit_code == 1, result.output
    assert "row 1: identifiers.phone" in result.output


# --- OpenAPI -----------------------------------------------------------------------------------

def test_the_openapi_document_describes_events_and_cards(api: Api) -> None:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert "/v1/events" in doc["paths"]
    assert "post" in doc["paths"]["/v1/events"]
    assert "/v1/cards" in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert {"EventIn", "EventBatchIn", "IngestResult", "Identifiers"} <= set(schemas)
    event_in = schemas["EventIn"]
    assert {"type", "source", "id", "occurred_at", "identifiers", "traits"} <= set(
        event_in["properties"])
    assert set(event_in["required"]) == {"type", "source"}
    body = doc["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    refs = {option["$ref"] for option in body["schema"]["oneOf"]}
    assert refs == {"#/components/schemas/EventIn", "#/components/schemas/EventBatchIn"}
    # Every reference in the document resolves.
    text = response.text
    for name in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in schemas, name
    params = {p["name"] for p in doc["paths"]["/v1/cards"]["get"]["parameters"]}
    assert {"phone", "email", "external_id", "role", "pin"} <= params


@pytest.mark.parametrize(("written", "seconds"), [
    ("90", 90), ("90s", 90), ("5m", 300), ("2h", 7200), ("1.5h", 5400), ("PT2H", 7200)])
def test_durations_in_the_environment_read_as_people_write_them(
        monkeypatch: pytest.MonkeyPatch, written: str, seconds: int) -> None:
    monkeypatch.setenv("CIRCULO_AGENT_HEARTBEAT_TIMEOUT", written)
    assert Settings().agent_heartbeat_timeout.total_seconds() == seconds


def test_a_duration_that_means_nothing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCULO_OUTBOX_DEAD_AFTER", "soon")
    with pytest.raises(ValueError, match="outbox_dead_after"):
        Settings()


# --- users -------------------------------------------------------------------------------------

def _run_with_input(*args: str, stdin: str, lang: str = "en_GB.UTF-8") -> Any:
    env = {"LANG": lang, "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""}
    return CliRunner().invoke(cli, list(args), env=env, input=stdin)


def test_users_create_reads_the_password_from_stdin_and_the_user_signs_in(
        cli_api: ApiOnCliDb) -> None:
    password = "a long enough passphrase"
    created = _run_with_input("users", "create", "--username", "Ana", "--name", "Ana Ruiz",
                              "--role", "agent", "--agent-id", "ana", "--site", "madrid",
                              "--language", "en", "--password-stdin", stdin=password + "\n")
    assert created.exit_code == 0, created.output
    assert password not in created.output and "argon2" not in created.output
    listed = _run("users", "list")
    assert listed.exit_code == 0, listed.output
    assert "Ana\tAna Ruiz\tagent\tana\tmadrid\tactive" in listed.output
    assert "argon2" not in listed.output
    # too short, or from a terminal-less stdin without the flag: refused
    short = _run_with_input("users", "create", "--username", "bea", "--name", "Bea",
                            "--role", "agent", "--password-stdin", stdin="short\n")
    assert short.exit_code != 0 and "12" in short.output
    no_flag = _run_with_input("users", "create", "--username", "bea", "--name", "Bea",
                              "--role", "agent", stdin=password + "\n")
    assert no_flag.exit_code != 0 and "--password-stdin" in no_flag.output
    client, _ = cli_api()
    with client:
        signed = client.post("/v1/session", json={"username": "ana", "password": password})
        assert signed.status_code == 200, signed.text
        assert signed.json()["user"]["site"] == "madrid"
        # a new password ends the session; the new one signs in
        changed = _run_with_input("users", "set-password", "ana", "--password-stdin",
                                  stdin="another long passphrase\n")
        assert changed.exit_code == 0, changed.output
        assert client.get("/v1/session").status_code == 401
        assert client.post("/v1/session", json={
            "username": "ana", "password": "another long passphrase"}).status_code == 200
        disabled = _run("users", "disable", "ana")
        assert disabled.exit_code == 0, disabled.output
        assert client.get("/v1/session").status_code == 401
    assert "\tdisabled" in _run("users", "list").output
    assert _run("users", "disable", "nobody").exit_code != 0


def test_users_help_is_in_spanish_and_english() -> None:
    result = _run("users", "create", "--help")
    assert result.exit_code == 0
    assert "Create a user" in result.output and "Crear un usuario" in result.output
