"""The duplicate-review queue end to end: a declined link becomes a suggestion; accepting
merges (undoable), rejecting keeps them apart for good; merges and erasure close it."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, assert_problem, ok
from tests.factories import event

MOBILE = "600 111 222"


def ana(email: str, birthday: str) -> dict[str, Any]:
    return event("customer.updated", source="crm",
                 identifiers={"phone": MOBILE, "email": email},
                 traits={"name": "Ana García", "birthday": birthday})


def two_anas(api: Api) -> tuple[str, str, dict[str, Any]]:
    """Two CRM contacts called Ana García on one mobile, born ten years apart."""
    first = api.send(ana("ana.1980@example.es", "1980-01-01"))["results"][0]["customer_id"]
    second = api.send(ana("ana.1990@example.es", "1990-05-05"))["results"][0]
    assert second["resolution"] == "created"
    (suggestion,) = ok(api.get("/v1/identity/suggestions"))["suggestions"]
    assert {c["customer_id"] for c in suggestion["customers"]} == {first,
                                                                   second["customer_id"]}
    return first, second["customer_id"], suggestion


def look_alike(api: Api, second: str) -> None:
    """Someone corrects the second Ana's date of birth: now only their e-mails differ."""
    api.send(event("customer.updated", source="crm", identifiers={"customer_id": second},
                   traits={"birthday": "1980-01-01"}))


def both_emails() -> dict[str, Any]:
    # A web form that says nothing but both addresses.
    return event("form.submitted", source="web",
                 identifiers={"email": ["ana.1980@example.es", "ana.1990@example.es"]})


def test_the_suggestion_shows_what_agreed_and_what_did_not(api: Api) -> None:
    _, _, suggestion = two_anas(api)
    verdicts = {f["field"]: f["verdict"] for f in suggestion["evidence"]}
    assert verdicts == {"name": "agrees", "birthday": "disagrees", "email": "disagrees"}
    assert suggestion["score"] == 4 - 6 - 3
    assert ok(api.get(f"/v1/identity/suggestions/{suggestion['id']}")) == suggestion


def test_accept_merges_as_reviewed_and_can_be_undone(api: Api) -> None:
    first, second, suggestion = two_anas(api)
    accepted = ok(api.post(f"/v1/identity/suggestions/{suggestion['id']}/accept"))
    assert accepted["status"] == "accepted" and accepted["decided_by"] == "key:test"
    (merge,) = ok(api.get("/v1/merges"))["merges"]
    assert merge["id"] == accepted["merge_id"]
    assert (merge["survivor_id"], merge["absorbed_id"]) == (first, second)
    assert merge["reason"] == "reviewed" and merge["actor"] == "key:test"
    # The mobile was shared only because of them: it recognises her again.
    assert api.card(phone=MOBILE)["match"] == "unique"
    assert ok(api.get("/v1/identifiers/shared"))["shared"] == []
    assert ok(api.get("/v1/identity/suggestions"))["suggestions"] == []
    # Accepting twice is a conflict, not a second merge.
    assert_problem(api.post(f"/v1/identity/suggestions/{suggestion['id']}/accept"),
                   409, "conflict")
    ok(api.post(f"/v1/merges/{merge['id']}/undo"))
    assert api.card(phone=MOBILE)["match"] == "ambiguous"
    # Undone, they are two people: however alike they look, nothing merges them again.
    look_alike(api, second)
    assert api.send(both_emails())["results"][0]["resolution"] == "ambiguous"


def test_reject_keeps_them_apart_for_good(api: Api) -> None:
    _, second, suggestion = two_anas(api)
    rejected = ok(api.post(f"/v1/identity/suggestions/{suggestion['id']}/reject"))
    assert rejected["status"] == "rejected"
    look_alike(api, second)
    assert api.send(both_emails())["results"][0]["resolution"] == "ambiguous"
    assert ok(api.get("/v1/merges"))["merges"] == []
    listed = ok(api.get("/v1/identity/suggestions", params={"status": "rejected"}))
    assert [s["id"] for s in listed["suggestions"]] == [suggestion["id"]]
    assert_problem(api.post(f"/v1/identity/suggestions/{suggestion['id']}/accept"),
                   409, "conflict")


def test_without_review_the_same_form_merges_them(api: Api) -> None:
    # The control for the two tests above: what rejecting and undoing prevent.
    first, second, _ = two_anas(api)
    look_alike(api, second)
    result = api.send(both_emails())["results"][0]
    assert result["resolution"] == "merged" and result["customer_id"] == first
    assert ok(api.get("/v1/identity/suggestions"))["suggestions"] == []
    closed = ok(api.get("/v1/identity/suggestions", params={"status": "obsolete"}))
    assert closed["suggestions"][0]["note"] == "merged"
    assert second != first


def test_a_suggestion_about_an_erased_customer_is_gone(api: Api) -> None:
    first, second, suggestion = two_anas(api)
    ok(api.delete(f"/v1/customers/{first}"))
    assert ok(api.get("/v1/identity/suggestions"))["suggestions"] == []
    problem = assert_problem(
        api.post(f"/v1/identity/suggestions/{suggestion['id']}/accept"), 409, "conflict")
    assert "erased" in problem["detail"]
    gone = ok(api.get(f"/v1/identity/suggestions/{suggestion['id']}"))
    assert gone["evidence"] == [] and gone["shared_identifiers"] == []
    assert gone["customers"] == [{"customer_id": second, "name": "Ana García"},
                                 {"customer_id": first, "name": None}]
    assert "1980" not in str(gone)


def test_unknown_suggestions_and_bad_queries(api: Api) -> None:
    assert_problem(api.post("/v1/identity/suggestions/nope/accept"), 404, "not_found")
    assert_problem(api.get("/v1/identity/suggestions", params={"order": "random"}),
                   422, "validation_failed")


def test_listing_by_score_and_by_customer(api: Api) -> None:
    first, _, suggestion = two_anas(api)
    by_score = ok(api.get("/v1/identity/suggestions", params={"order": "score"}))
    assert [s["id"] for s in by_score["suggestions"]] == [suggestion["id"]]
    mine = ok(api.get("/v1/identity/suggestions", params={"customer_id": first}))
    assert len(mine["suggestions"]) == 1
    other = ok(api.get("/v1/identity/suggestions", params={"customer_id": "nobody"}))
    assert other["suggestions"] == []


def test_review_needs_an_admin_key(api: Api, ctx: Any) -> None:
    from tests.conftest import make_key

    _, _, suggestion = two_anas(api)
    reader = {"Authorization": f"Bearer {make_key(ctx, ['read'], name='reader')}"}
    assert api.client.get("/v1/identity/suggestions", headers=reader).status_code == 200
    response = api.client.post(f"/v1/identity/suggestions/{suggestion['id']}/accept",
                               headers=reader)
    assert_problem(response, 403, "forbidden")


def _crm_contacts(api: Api, *names: str) -> list[str]:
    result = api.send(*[event("customer.updated", source="crm",
                              identifiers={"email": f"c{n}@example.es"},
                              traits={"name": name}) for n, name in enumerate(names)])
    return [r["customer_id"] for r in result["results"]]


def _suggest(ctx: Any, *pairs: tuple[str, str]) -> list[str]:
    """Suggestions as ingest or dedupe would write them (the review queue's input)."""
    from circulo.identity import repository, service

    rows = [service.suggestion_row(":".join(sorted(p)), p[0], p[1], origin="dedupe",
                                   score=5.0, probability=0.95, evidence=[], shared=[],
                                   event_id=None, run_id=None, now=ctx.clock.now())
            for p in pairs]
    with ctx.db.unit_of_work() as session:
        repository.propose(session, rows)
    return [r["id"] for r in rows]


def test_a_merge_leaves_the_survivors_other_suggestions_open(api: Api, ctx: Any) -> None:
    a, b, d = _crm_contacts(api, "Ana Gil", "Ana Gil Pons", "Ana M. Gil")
    ab, ad, bd = _suggest(ctx, (a, b), (a, d), (b, d))
    merge_id = ok(api.post(f"/v1/identity/suggestions/{ab}/accept"))["merge_id"]
    (merge,) = [m for m in ok(api.get("/v1/merges"))["merges"] if m["id"] == merge_id]
    survivors, absorbed = (ad, bd) if merge["survivor_id"] == a else (bd, ad)
    # About the survivor: still a question. About the one merged away: closed.
    assert ok(api.get(f"/v1/identity/suggestions/{survivors}"))["status"] == "open"
    gone = ok(api.get(f"/v1/identity/suggestions/{absorbed}"))
    assert (gone["status"], gone["note"]) == ("obsolete", "merged")
    assert ok(api.post(f"/v1/identity/suggestions/{survivors}/accept"))["status"] == "accepted"


def test_a_rejection_holds_after_one_of_them_merges_with_someone_else(api: Api,
                                                                      ctx: Any) -> None:
    a, b, c = _crm_contacts(api, "Luis Gil", "Luis Gil Pons", "Luis Gil P.")
    (ab,) = _suggest(ctx, (a, b))
    ok(api.post(f"/v1/identity/suggestions/{ab}/reject"))
    ok(api.post("/v1/merges", json={"survivor_id": c, "absorbed_id": a}), 201)
    (cb,) = _suggest(ctx, (c, b))
    problem = assert_problem(api.post(f"/v1/identity/suggestions/{cb}/accept"), 409,
                             "conflict")
    assert "two people" in problem["detail"]


def test_a_closed_pair_may_be_suggested_again(ctx: Any, api: Api) -> None:
    from circulo.identity import repository

    a, b = _crm_contacts(api, "Eva Sanz", "Eva Sanz Gil")
    (first,) = _suggest(ctx, (a, b))
    with ctx.db.unit_of_work() as session:
        repository.close_after_merge(session, [b], now=ctx.clock.now())
    assert ok(api.get(f"/v1/identity/suggestions/{first}"))["status"] == "obsolete"
    _suggest(ctx, (a, b))  # after an undo, say: the same pair, open again
    reopened = ok(api.get(f"/v1/identity/suggestions/{first}"))
    assert reopened["status"] == "open" and reopened["note"] is None
    _suggest(ctx, (a, b))  # while open, proposing it again changes nothing
    assert len(ok(api.get("/v1/identity/suggestions"))["suggestions"]) == 1


def test_national_ids_in_the_evidence_are_masked(api: Api) -> None:
    api.send(event("customer.updated", source="crm",
                   identifiers={"phone": MOBILE, "email": "ana.1@example.es"},
                   traits={"name": "Ana García", "national_id": "12345678Z"}))
    api.send(event("customer.updated", source="crm",
                   identifiers={"phone": MOBILE, "email": "ana.2@example.es"},
                   traits={"name": "Ana García", "national_id": "X1234567L"}))
    (suggestion,) = ok(api.get("/v1/identity/suggestions"))["suggestions"]
    (national,) = [f for f in suggestion["evidence"] if f["field"] == "national_id"]
    assert national["verdict"] == "disagrees"
    assert [v["value"] for v in national["values"]] == ["*****567L", "*****678Z"]
    assert "12345678Z" not in str(suggestion)
