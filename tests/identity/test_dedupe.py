"""Batch deduplication through the real model (Splink on DuckDB) on a small company:
suggestions by default, merges only when asked, resumable, and never against the rules."""

from __future__ import annotations

import random
from typing import Any

import pytest
from typer.testing import CliRunner

from circulo.context import AppContext
from circulo.identity import dedupe
from tests.conftest import Api, ok

GIVEN = ["Ana", "Luis", "Marta", "Jorge", "Lucía", "Pablo", "Elena", "Sergio", "Carmen",
         "David", "Laura", "Javier", "Sara", "Diego", "Paula", "Raúl", "Irene", "Hugo",
         "Nuria", "Óscar", "Alba", "Iván", "Rocío", "Adrián", "Noelia"]
SURNAMES = ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Martín", "Ruiz",
            "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Navarro", "Torres", "Domínguez",
            "Vázquez", "Ramos", "Gil", "Serrano", "Blanco", "Molina", "Castro", "Ortega"]


def people(count: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    found = []
    for n in range(count):
        found.append({
            "first_name": rng.choice(GIVEN),
            "last_name": f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}",
            "birthday": f"{rng.randint(1940, 2004)}-{rng.randint(1, 12):02d}-"
                        f"{rng.randint(1, 28):02d}",
            "postal_code": f"{rng.randint(1, 52):02d}{rng.randint(0, 999):03d}",
            "email": f"persona{n}@example.es", "phone": f"6{n:08d}",
        })
    return found


def crm(person: dict[str, Any], n: int) -> dict[str, Any]:
    traits = {k: person[k] for k in ("first_name", "last_name", "birthday", "postal_code")}
    return {"type": "customer.updated", "source": "crm", "id": f"crm-{n}",
            "identifiers": {"email": person["email"], "phone": person["phone"],
                            "external_ids": {"crm": f"C-{n}"}},
            "traits": traits}


def shop_duplicate(person: dict[str, Any], n: int) -> dict[str, Any]:
    """The same person registered in the shop with another e-mail and no phone: nothing
    links the two at ingest. The name is typed differently."""
    last = person["last_name"].split()[0].lower()  # one surname, no accents
    return {"type": "customer.updated", "source": "shop", "id": f"shop-{n}",
            "identifiers": {"email": f"otra{n}@correo.es", "external_ids": {"shop": f"S-{n}"}},
            "traits": {"name": f"{person['first_name'].upper()} {last}",
                       "birthday": person["birthday"], "postal_code": person["postal_code"]}}


@pytest.fixture
def company(api: Api) -> tuple[list[str], list[tuple[str, str]]]:
    """80 CRM customers; 8 of them also in the shop under another e-mail."""
    everyone = people(80)
    result = api.send(*[crm(p, n) for n, p in enumerate(everyone)])
    ids = [r["customer_id"] for r in result["results"]]
    twins = api.send(*[shop_duplicate(everyone[n], n) for n in range(0, 80, 10)])
    pairs = [tuple(sorted((ids[n], r["customer_id"])))
             for n, r in zip(range(0, 80, 10), twins["results"], strict=True)]
    return ids, pairs  # type: ignore[return-value]


def options(ctx: AppContext, **kw: Any) -> dedupe.Options:
    return dedupe.options_from(ctx.settings, **kw)


def test_a_dry_run_finds_the_duplicates_and_writes_nothing(
        ctx: AppContext, api: Api, company: tuple[list[str], list[tuple[str, str]]]) -> None:
    _, duplicates = company
    summary = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx, dry_run=True),
                         actor="test")
    found = {(p.pair.a, p.pair.b) for p in summary.planned}
    assert found == set(duplicates)
    assert summary.profiles == 88 and summary.compared > len(duplicates)
    assert {p.action for p in summary.planned} == {"suggest"}
    assert summary.run_id is None
    assert ok(api.get("/v1/identity/suggestions"))["suggestions"] == []
    assert "name" in summary.columns and "birthday" in summary.columns


def test_a_run_suggests_for_review_and_merges_nothing_by_default(
        ctx: AppContext, api: Api, company: tuple[list[str], list[tuple[str, str]]]) -> None:
    _, duplicates = company
    summary = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx), actor="cli")
    assert summary.suggested == len(duplicates) and summary.merged == 0
    listed = ok(api.get("/v1/identity/suggestions", params={"order": "score"}))["suggestions"]
    assert {tuple(sorted(c["customer_id"] for c in s["customers"])) for s in listed} \
        == set(duplicates)
    first = listed[0]
    assert first["origin"] == "dedupe" and first["run_id"] == summary.run_id
    assert first["probability"] >= 0.9
    verdicts = {f["field"]: f["verdict"] for f in first["evidence"]}
    assert verdicts["birthday"] == "agrees"
    assert ok(api.get("/v1/merges"))["merges"] == []
    # A second run finds the same pairs and leaves them to the review already under way.
    again = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx), actor="cli")
    assert again.suggested == 0 and again.excluded == {"already_suggested": len(duplicates)}


def test_merging_without_review_only_when_asked(
        ctx: AppContext, api: Api, company: tuple[list[str], list[tuple[str, str]]]) -> None:
    ids, duplicates = company
    summary = dedupe.run(ctx.db, ctx.settings, ctx.clock,
                         options(ctx, auto_merge_at=0.9), actor="cli")
    assert summary.merged == len(duplicates) and summary.suggested == 0
    merges = ok(api.get("/v1/merges"))["merges"]
    assert {m["reason"] for m in merges} == {"dedupe"}
    assert {tuple(sorted((m["survivor_id"], m["absorbed_id"]))) for m in merges} \
        == set(duplicates)
    # Undoable like any merge.
    ok(api.post(f"/v1/merges/{merges[0]['id']}/undo"))
    assert len(ids) == 80


def test_rejected_pairs_and_different_crm_ids_are_left_out(
        ctx: AppContext, api: Api, company: tuple[list[str], list[tuple[str, str]]]) -> None:
    _, duplicates = company
    # The CRM holds a second contact for customer 5, with its own CRM id: two records the
    # CRM says are two people, however alike they look.
    twin = crm(people(80)[5], 5) | {"id": "crm-twin"}
    twin["identifiers"] = {"email": "twin@example.es", "external_ids": {"crm": "C-TWIN"}}
    api.send(twin)
    dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx), actor="cli")
    listed = ok(api.get("/v1/identity/suggestions"))["suggestions"]
    assert len(listed) == len(duplicates)
    for suggestion in listed:
        ok(api.post(f"/v1/identity/suggestions/{suggestion['id']}/reject"))
    summary = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx, auto_merge_at=0.5),
                         actor="cli")
    assert summary.merged == 0 and summary.suggested == 0
    assert summary.excluded == {"known_apart": len(duplicates), "different_ids": 1}


def test_an_interrupted_run_resumes_and_nothing_is_half_merged(
        ctx: AppContext, api: Api, company: tuple[list[str], list[tuple[str, str]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, duplicates = company
    monkeypatch.setattr(dedupe, "CHUNK", 3)
    real = dedupe._apply_pair
    calls = {"n": 0}

    def crash_on_the_fifth(*args: Any, **kw: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt  # the operator's Ctrl-C, mid-chunk
        return real(*args, **kw)

    monkeypatch.setattr(dedupe, "_apply_pair", crash_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx, auto_merge_at=0.9),
                   actor="cli")
    # The first chunk (3 merges) landed; the second rolled back as a whole.
    assert len(ok(api.get("/v1/merges"))["merges"]) == 3
    monkeypatch.setattr(dedupe, "_apply_pair", real)
    # Other options than the interrupted run's are refused, not silently replaced.
    with pytest.raises(dedupe.Interrupted):
        dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx), actor="cli")
    resumed = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx, auto_merge_at=0.9),
                         actor="cli")
    assert resumed.resumed and resumed.merged == len(duplicates)
    merges = ok(api.get("/v1/merges"))["merges"]
    assert len(merges) == len(duplicates)
    assert len({m["absorbed_id"] for m in merges}) == len(duplicates)
    # The run keeps ids and scores; the evidence (names, dates) went to the suggestions.
    with ctx.db.unit_of_work(write=False) as session:
        from sqlalchemy import select

        from circulo.identity.models import DedupePair
        assert all(p.evidence == [] for p in session.scalars(select(DedupePair)))


def test_a_company_too_small_to_learn_from(ctx: AppContext, api: Api) -> None:
    empty = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx), actor="cli")
    assert (empty.profiles, empty.suggested, empty.merged) == (0, 0, 0)
    api.send(crm(people(1)[0], 0))
    one = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx, dry_run=True), actor="cli")
    assert (one.profiles, one.candidates) == (1, 0)


def test_the_command(ctx: AppContext, api: Api,
                     company: tuple[list[str], list[tuple[str, str]]],
                     monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from circulo import cli

    monkeypatch.setattr(cli, "_context", lambda settings=None: ctx)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    runner = CliRunner()
    out = tmp_path / "pairs.csv"
    result = runner.invoke(cli.app, ["identity", "dedupe", "--dry-run", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "88 customers" in result.output
    assert "Dry run: 8 pairs would be suggested and 0 merged" in result.output
    assert len(out.read_text().splitlines()) == 9
    help_text = runner.invoke(cli.app, ["identity", "dedupe", "--help"]).output
    assert "--auto-merge-at" in help_text and "--dry-run" in help_text


def test_fresh_abandons_an_interrupted_run(
        ctx: AppContext, api: Api, company: tuple[list[str], list[tuple[str, str]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: Any, **kw: Any) -> str:
        raise KeyboardInterrupt

    real = dedupe._apply_pair
    monkeypatch.setattr(dedupe, "_apply_pair", interrupt)
    with pytest.raises(KeyboardInterrupt):
        dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx), actor="cli")
    monkeypatch.setattr(dedupe, "_apply_pair", real)
    fresh = dedupe.run(ctx.db, ctx.settings, ctx.clock, options(ctx, fresh=True,
                                                                  auto_merge_at=0.9),
                       actor="cli")
    assert not fresh.resumed and fresh.merged == len(company[1])
