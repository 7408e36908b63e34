"""Bulk import of customers (CSV or JSON) and events (JSON array or JSON Lines).

Each row becomes an event sent through the same pipeline as the API, in batches: a customer
row becomes ``customer.imported`` with identifiers and traits. The error report names the row
(1-based, header excluded) and the field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from circulo.context import AppContext
from circulo.ingest import service

IDENTIFIER_COLUMNS = {"phone", "phones", "email", "emails", "account", "customer_id",
                      "anonymous_id"}
EXTERNAL_PREFIX = "external_id."
CONSENT_PREFIX = "consent."


@dataclass
class ImportReport:
    total: int = 0
    accepted: int = 0
    duplicates: int = 0
    suppressed: int = 0  # rows of erased people (docs/privacy.md): not stored
    errors: list[dict[str, Any]] = field(default_factory=list)

    def write_errors(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["row", "field", "code", "detail"])
            writer.writeheader()
            writer.writerows(self.errors)


def customer_row_to_event(row: dict[str, Any], source: str) -> dict[str, Any]:
    """CSV columns: phone, email, account, ``external_id.<system>``, ``consent.<channel>.
    <purpose>`` (true/false), ``id`` (the row's id in your system, for idempotency); every
    other non-empty column is a trait."""
    identifiers: dict[str, Any] = {}
    external: dict[str, str] = {}
    traits: dict[str, Any] = {}
    consent: list[dict[str, Any]] = []
    event: dict[str, Any] = {"type": "customer.imported", "source": source}
    for column, raw in row.items():
        if column is None:
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        if value in (None, ""):
            continue
        if column in IDENTIFIER_COLUMNS:
            identifiers[column] = value
        elif column.startswith(EXTERNAL_PREFIX):
            external[column[len(EXTERNAL_PREFIX):]] = str(value)
        elif column.startswith(CONSENT_PREFIX):
            _, channel, purpose = [*column.split("."), "", ""][:3]
            consent.append({"channel": channel, "purpose": purpose,
                            "granted": str(value).lower() in {"1", "true", "yes", "sí", "si"}})
        elif column == "id":
            event["id"] = str(value)
        elif column == "occurred_at":
            event["occurred_at"] = value
        else:
            traits[column] = _typed(column, value)
    if external:
        identifiers["external_ids"] = external
    event["identifiers"] = identifiers
    if traits:
        event["traits"] = traits
    if consent:
        event["consent"] = consent
    return event


def _typed(column: str, value: Any) -> Any:
    if column == "churn_risk" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _rows(path: Path) -> Iterator[Any]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from csv.DictReader(handle)
    elif suffix in {".jsonl", ".ndjson"}:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield _BadRow(f"not valid JSON: {exc}")
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        yield from (data["events"] if isinstance(data, dict) and "events" in data else data)
    else:
        raise ValueError(f"{path}: unsupported file type (use .csv, .json or .jsonl)")


@dataclass
class _BadRow:
    detail: str


def _count(path: Path) -> int:
    if path.suffix.lower() in {".csv", ".jsonl", ".ndjson"}:
        with path.open(encoding="utf-8-sig") as handle:
            lines = sum(1 for line in handle if line.strip())
        return max(0, lines - (1 if path.suffix.lower() == ".csv" else 0))
    return 0


def run_import(ctx: AppContext, path: Path, *, kind: str, source: str, batch_size: int,
               console: Console | None = None) -> ImportReport:
    if kind not in {"customers", "events"}:
        raise ValueError("kind must be 'customers' or 'events'")
    report = ImportReport()
    total = _count(path) or None
    columns = [TextColumn("Importing {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True, disable=console is None) as bar:
        task = bar.add_task(path.name, total=total)
        batch: list[tuple[int, Any]] = []
        for number, row in enumerate(_rows(path), start=1):
            report.total += 1
            if isinstance(row, _BadRow):
                report.errors.append({"row": number, "field": "", "code": "malformed_json",
                                      "detail": row.detail})
                continue
            event = customer_row_to_event(row, source) if kind == "customers" else row
            batch.append((number, event))
            if len(batch) >= batch_size:
                _flush(ctx, batch, report)
                bar.update(task, advance=len(batch))
                batch = []
        if batch:
            _flush(ctx, batch, report)
            bar.update(task, advance=len(batch))
    return report


def _flush(ctx: AppContext, batch: list[tuple[int, Any]], report: ImportReport) -> None:
    with ctx.db.unit_of_work() as session:
        result = service.ingest(session, {"events": [e for _, e in batch]},
                                settings=ctx.settings, policies=ctx.policies,
                                now=ctx.clock.now(), actor="import",
                                may_set_pin=True)  # the operator, at the console
    report.accepted += result.accepted
    report.duplicates += result.duplicates
    report.suppressed += result.suppressed
    for error in result.errors:
        report.errors.append({"row": batch[error.index][0], "field": error.field,
                              "code": error.code, "detail": error.detail})
