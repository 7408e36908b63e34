"""The dedupe model's pure parts: records as the model sees them, and the sanity kept on a
trained model (EM on sparse company data can collapse a level's m to 0)."""

from __future__ import annotations

from typing import Any

from circulo.identity import linkage


def test_records_keep_what_the_model_compares() -> None:
    record = linkage.record_from(
        "P1", {"first_name": "Pepe", "last_name": "García López", "birthday": "15/03/1980",
               "postal_code": "28 013", "national_id": "12.345.678-z", "address": {"x": 1},
               "city": 12345},
        [("email", "pepe.garcia@example.es"), ("email", "info@acme.es"),
         ("email", "ana@x.es"), ("external_id", "crm:C-1")],
        roles=frozenset({"info"}))
    assert (record.given, record.surname, record.surname1) == ("pepe", "garcia lopez", "garcia")
    assert "#" in record.given_groups[0] and record.given_known
    assert record.birthday == "1980-03-15" and record.postal_code == "28013"
    assert record.national_id == "12345678Z" and record.address is None
    # A role mailbox and a short mailbox name say nothing about who it is.
    assert record.mailbox_names == ("pepe.garcia",)
    assert record.namespaces == ("crm:C-1",)


def test_different_ids_in_one_namespace_are_two_people() -> None:
    a = linkage.LinkRecord("A", namespaces=("crm:C-1", "shop:9"))
    assert linkage.conflicting_ids(a, linkage.LinkRecord("B", namespaces=("crm:C-2",)))
    assert not linkage.conflicting_ids(a, linkage.LinkRecord("C", namespaces=("shop:9",)))
    assert not linkage.conflicting_ids(a, linkage.LinkRecord("D"))


def _model(*levels: tuple[float | None, float | None]) -> dict[str, Any]:
    return {"comparisons": [{"output_column_name": "city", "comparison_levels": [
        {"is_null_level": True},
        *({"m_probability": m, "u_probability": u} for m, u in levels)]}]}


def test_a_collapsed_model_is_kept_sane() -> None:
    untrained = _model((0.85, None), (0.05, None), (0.1, None))
    trained = _model((1e-15, 0.07), (None, 0.01), (0.99, 0.92))
    sane = linkage._sane(trained, untrained)
    m = [lv["m_probability"] for lv in sane["comparisons"][0]["comparison_levels"][1:]]
    assert abs(sum(m) - 1) < 1e-9
    # The same city is no longer evidence against; the unestimated level keeps its default.
    assert m[0] > 0.07 * 4 and m[1] > 0.01
    assert min(m) >= linkage.M_FLOOR / 2


def test_a_sound_model_is_left_as_trained() -> None:
    untrained = _model((0.85, None), (0.15, None))
    trained = _model((0.7, 0.001), (0.3, 0.999))
    m = [lv["m_probability"] for lv in
         linkage._sane(trained, untrained)["comparisons"][0]["comparison_levels"][1:]]
    assert [round(x, 6) for x in m] == [0.7, 0.3]
