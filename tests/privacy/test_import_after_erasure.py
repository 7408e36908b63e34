"""Re-importing an old customer file after an erasure: the erased person's row is counted as
suppressed, not silently missing from the summary, and not stored."""

from __future__ import annotations

import csv
from pathlib import Path

from circulo.context import AppContext
from circulo.ingest.importer import run_import
from tests.conftest import Api, ok, only_customer
from tests.factories import event

ROWS = [["id", "first_name", "last_name", "phone", "email"],
        ["r1", "Begoña", "Urrutia", "+34 655 000 111", "bego.urrutia@example.org"],
        ["r2", "Tomás", "Ibarra", "+34 655 000 222", ""]]


def test_the_erased_row_is_counted_as_suppressed(api: Api, ctx: AppContext,
                                                  tmp_path: Path) -> None:
    bego = only_customer(api.send(event("customer.updated", source="crm",
                                        identifiers={"phone": "+34 655 000 111"})))
    ok(api.delete(f"/v1/customers/{bego}"))
    path = tmp_path / "clientes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROWS)
    report = run_import(ctx, path, kind="customers", source="crm", batch_size=10)
    assert (report.total, report.accepted, report.suppressed, report.errors) == (2, 1, 1, [])
    assert api.card(email="bego.urrutia@example.org")["match"] == "none"
