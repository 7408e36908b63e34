"""Probabilistic record linkage for batch deduplication: Splink on its DuckDB backend.

The model (Fellegi-Sunter) is trained unsupervised on the company's own profiles: the
chance that two random profiles match from rules that admit almost no false positives, the
``u`` probabilities (how often values agree by chance) from random pairs, the ``m``
probabilities (how often they agree for one person) by expectation maximisation within
blocks. Pairs are only scored inside blocks (same given name and surname, same date of
birth, same e-mail, same phone, same national id...), so 200,000 profiles cost minutes, not
the 2·10¹⁰ comparisons of every pair. Columns a company never fills are left out of the
model. ADR 0013.

Splink and DuckDB come with the ``dedupe`` extra: ``pip install 'circulo[dedupe]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from circulo.identity import names
from circulo.identity.evidence import compact, parse_date, text_value
from circulo.identity.normalize import is_role_email

MIN_FILLED = 20  # a column this few profiles fill says too little to train on
# names.equivalent_given in SQL: Pepe and José, Jordi and Jorge, Bob and Robert.
SAME_GIVEN = ("(list_has_any(given_groups_l, given_groups_r)"
              " OR list_contains(given_forms_l, given_r)"
              " OR list_contains(given_forms_r, given_l))")
SEED = 7  # u sampling: the same profiles give the same model
RECALL = 0.7  # share of true duplicates the deterministic rules are assumed to find
# How often each level occurs between two records of one person (m), before training: what
# a level keeps when EM cannot estimate it (a block without matches, or estimates that
# collapse to 0 on sparse data). Order: the levels after the null one, as defined below.
M_DEFAULTS: dict[str, list[float]] = {
    "name": [0.55, 0.2, 0.1, 0.005, 0.06, 0.05, 0.035],  # exact, variant, similar, two
    # names, surname, given, else
    "birthday": [0.9, 0.05, 0.05],
    "id": [0.95, 0.03, 0.02],
    "address": [0.7, 0.15, 0.05, 0.1],
    "postal_code": [0.85, 0.15],
    "city": [0.85, 0.05, 0.1],
}
M_FLOOR = 0.002  # no level is impossible for one person


class LinkageUnavailable(RuntimeError):
    """Splink is not installed."""


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """A profile as the model sees it: normalised, one column per trait."""

    id: str
    given: str | None = None  # first given name, folded: "jose", "pepe", "j"
    given_groups: tuple[str, ...] = ()  # its Spanish variant groups (names.given_groups)
    given_forms: tuple[str, ...] = ()  # its English nicknames and formal names
    given_known: bool = False  # a given name we know (Spanish table, English nicknames)
    surname: str | None = None  # "pujol riera"
    surname1: str | None = None  # "pujol"
    birthday: str | None = None  # ISO date
    # The names before the @ of their e-mails (not role mailboxes): the same mailbox name
    # at another provider, or a mistyped domain. Whole e-mails and phones two profiles share
    # are not compared: streaming resolution links a person's own ones, so what is still
    # shared between two profiles is a household's or an office's (ADR 0013).
    mailbox_names: tuple[str, ...] = ()
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    national_id: str | None = None
    social_security: str | None = None
    namespaces: tuple[str, ...] = ()  # "crm:C-1": two different ids of a namespace = two people


@dataclass(frozen=True, slots=True)
class ScoredPair:
    a: str
    b: str
    probability: float
    weight: float


@dataclass(slots=True)
class Linked:
    pairs: list[ScoredPair] = field(default_factory=list)
    compared: int = 0
    columns: list[str] = field(default_factory=list)  # the traits the model used


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _fold(value: Any, limit: int = 200) -> str | None:
    text = text_value(value, limit)
    return " ".join(names.tokens(text)) or None if text else None


def _compact(value: Any) -> str | None:
    text = text_value(value, 40)
    return compact(text) or None if text else None


MIN_MAILBOX_NAME = 5  # shorter ones ("ana", "jm") are anybody's


def record_from(profile_id: str, traits: dict[str, Any], identifiers: Sequence[tuple[str, str]],
                roles: frozenset[str] = frozenset()) -> LinkRecord:
    """Normalise what a profile carries for the model (pure)."""
    parsed = names.parse(
        traits.get("name") if isinstance(traits.get("name"), str) else None,
        traits.get("first_name") if isinstance(traits.get("first_name"), str) else None,
        traits.get("last_name") if isinstance(traits.get("last_name"), str) else None,
    ) if any(isinstance(traits.get(k), str) for k in ("name", "first_name", "last_name")) \
        else None
    given = surname = surname1 = None
    groups: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    known = False
    if parsed is not None and parsed.readings:
        reading = parsed.readings[0]
        given = reading.given.split(" ")[0] if reading.given else None
        if given:
            groups, forms = names.given_groups(given), names.english_forms(given)
            known = names.is_given_name(given)
        surname = " ".join(reading.surnames) or None
        surname1 = reading.surnames[0] if reading.surnames else None
    raw_birthday = traits.get("birthday")
    born = parse_date(str(raw_birthday)) if isinstance(raw_birthday, str | int) else None
    street = traits.get("address") or traits.get("street")
    return LinkRecord(
        id=profile_id, given=given, given_groups=groups, given_forms=forms, given_known=known,
        surname=surname, surname1=surname1,
        birthday=born.isoformat() if born else None,
        mailbox_names=tuple(sorted({
            v.split("@", 1)[0] for k, v in identifiers
            if k == "email" and len(v.split("@", 1)[0]) >= MIN_MAILBOX_NAME
            and not is_role_email(v, roles)}))[:10],
        address=_fold(street), postal_code=_compact(traits.get("postal_code")),
        city=_fold(traits.get("city"), 80), national_id=_compact(traits.get("national_id")),
        social_security=_compact(traits.get("social_security")),
        namespaces=tuple(sorted(v for k, v in identifiers if k == "external_id")),
    )


def conflicting_ids(a: LinkRecord, b: LinkRecord) -> bool:
    """Different ids of one system's namespace: two people, whatever the model says."""
    mine = dict(v.split(":", 1) for v in a.namespaces)
    return any(ns in mine and mine[ns] != value
               for ns, value in (v.split(":", 1) for v in b.namespaces))


def _splink() -> Any:
    try:
        import splink
        import splink.comparison_level_library
        import splink.comparison_library
    except ImportError as exc:  # pragma: no cover - the dedupe extra is missing
        raise LinkageUnavailable(
            "batch deduplication needs Splink: pip install 'circulo[dedupe]'") from exc
    return splink


def _table(records: Sequence[LinkRecord]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {"unique_id": [r.id for r in records]}
    for name in ("given", "surname", "surname1", "birthday", "address", "postal_code", "city",
                 "national_id", "social_security"):
        columns[name] = [getattr(r, name) for r in records]
    columns["given_known"] = [r.given_known for r in records]
    columns["full_name"] = [f"{r.given} {r.surname}" if r.given and r.surname else None
                            for r in records]
    columns["given_groups"] = [list(r.given_groups) for r in records]
    columns["given_forms"] = [list(r.given_forms) for r in records]
    columns["mailbox_names"] = [list(r.mailbox_names) for r in records]
    # One scalar per list for blocking: the first value is enough to find who shares it.
    columns["mailbox1"] = [r.mailbox_names[0] if r.mailbox_names else None for r in records]
    return columns


def _filled(records: Sequence[LinkRecord], name: str) -> int:
    return sum(1 for r in records if getattr(r, name))


def _settings(records: Sequence[LinkRecord], splink: Any, prior: float | None
              ) -> tuple[Any, list[str], list[Any]]:
    cl = splink.comparison_library
    cll = splink.comparison_level_library
    block_on = splink.block_on
    used: list[str] = []
    comparisons: list[Any] = []
    blocking: list[Any] = []

    def has(name: str) -> bool:
        return _filled(records, name) >= MIN_FILLED

    if has("given") or has("surname"):
        used.append("name")
        comparisons.append(cl.CustomComparison([
            cll.And(cll.NullLevel("given"), cll.NullLevel("surname")),
            # The same full name: weighed by how common it is (term frequencies), so that a
            # rare name says more than María García López.
            cll.ExactMatchLevel("full_name", term_frequency_adjustments=True),
            cll.And(cll.CustomLevel(SAME_GIVEN), cll.ExactMatchLevel("surname1")),
            cll.And(cll.JaroWinklerLevel("given", 0.9), cll.JaroWinklerLevel("surname", 0.9)),
            # Two real given names, not variants of one another: Christopher and Michael
            # Mason are a family, where a typo (Michaeal) is not a name.
            cll.CustomLevel(f"given_known_l AND given_known_r AND NOT {SAME_GIVEN}"),
            cll.ExactMatchLevel("surname"),
            cll.CustomLevel(SAME_GIVEN),
            cll.ElseLevel(),
        ], output_column_name="name").configure(m_probabilities=M_DEFAULTS["name"]))
        blocking.append(block_on("given", "surname1"))
        blocking.append(block_on("surname"))
    if has("birthday"):
        used.append("birthday")
        comparisons.append(cl.CustomComparison([
            cll.NullLevel("birthday"),
            cll.ExactMatchLevel("birthday"),
            cll.DamerauLevenshteinLevel("birthday", 1),
            cll.ElseLevel(),
        ], output_column_name="birthday").configure(m_probabilities=M_DEFAULTS["birthday"]))
        blocking.append(block_on("birthday"))
    for column in ("national_id", "social_security"):
        if has(column):
            used.append(column)
            comparisons.append(cl.CustomComparison([
                cll.NullLevel(column), cll.ExactMatchLevel(column),
                cll.DamerauLevenshteinLevel(column, 1), cll.ElseLevel(),
            ], output_column_name=column).configure(m_probabilities=M_DEFAULTS["id"]))
            blocking.append(block_on(column))
    if has("mailbox_names"):
        # Only to find candidates: whether two mailboxes are named alike is mostly whether
        # the people are (mfernandez@ is many people), which the names already weigh.
        blocking.append(block_on("mailbox1"))
    if has("address"):
        used.append("address")
        comparisons.append(cl.LevenshteinAtThresholds("address", [2, 5]).configure(
            m_probabilities=M_DEFAULTS["address"]))
    if has("postal_code"):
        used.append("postal_code")
        comparisons.append(cl.ExactMatch("postal_code").configure(
            m_probabilities=M_DEFAULTS["postal_code"]))
        if has("address"):
            blocking.append(block_on("postal_code", "substr(address, 1, 3)"))
    if has("city"):
        used.append("city")
        comparisons.append(cl.JaroWinklerAtThresholds("city", [0.92]).configure(
            m_probabilities=M_DEFAULTS["city"]))
    settings = splink.SettingsCreator(
        link_type="dedupe_only", comparisons=comparisons,
        probability_two_random_records_match=prior or 0.0001,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False, retain_matching_columns=False,
    )
    return settings, used, blocking


def _deterministic_rules(used: list[str], splink: Any) -> list[Any]:
    """Rules that almost only pair a person with themselves, to estimate how many
    duplicates there are (with the recall assumed below)."""
    block_on = splink.block_on
    rules = []
    if "name" in used and "birthday" in used:
        rules.append(block_on("given", "surname1", "birthday"))
    if "national_id" in used:
        rules.append(block_on("national_id"))
    if "social_security" in used:
        rules.append(block_on("social_security"))
    if "name" in used and "address" in used:
        rules.append(block_on("given", "surname1", "address"))
    return rules


def _prior(records: Sequence[LinkRecord], settings: Any, used: list[str], splink: Any
           ) -> float:
    """The chance that two random profiles are one person, estimated from deterministic
    rules; when they find nothing, as if one profile in twenty had a duplicate."""
    floor = 0.1 / max(1, len(records) - 1)
    rules = _deterministic_rules(used, splink)
    if not rules:
        return floor
    db = splink.DuckDBAPI()
    linker = splink.Linker(db.register(_table(records), table_name="profiles"), settings,
                           log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(rules, recall=RECALL)
    estimate = float(linker.misc.save_model_to_json()["probability_two_random_records_match"])
    # Sparse profiles (no date of birth, no national id) leave the rules little to find:
    # their count is a lower bound, never below the floor.
    return min(max(estimate, floor), 0.5)


def link(records: Sequence[LinkRecord], *, threshold: float,
         progress: Progress | None = None, chunks: int | None = None) -> Linked:
    """Train on ``records`` and return the pairs scored at or above ``threshold``."""
    splink = _splink()
    report = progress or (lambda stage, done, total: None)
    if len(records) < 2:
        return Linked()
    settings, used, blocking = _settings(records, splink, None)
    if not blocking:
        return Linked(columns=used)
    steps = 3
    report("train", 0, steps)
    prior = _prior(records, settings, used, splink)
    settings, _, _ = _settings(records, splink, prior)
    db = splink.DuckDBAPI()
    table = db.register(_table(records), table_name="profiles")
    linker = splink.Linker(table, settings, log_level=logging.ERROR)
    untrained = linker.misc.save_model_to_json()
    training = linker.training
    from splink.internals.exceptions import EMTrainingException

    report("train", 1, steps)
    training.estimate_u_using_random_sampling(max_pairs=min(2e6, max(1e5, 100.0 * len(records))),
                                              seed=SEED)
    report("train", 2, steps)
    for rule in _em_rules(used, splink):
        try:
            training.estimate_parameters_using_expectation_maximisation(rule)
        except (EMTrainingException, ValueError) as exc:
            # A block with no pairs teaches nothing; one where a level never occurs among
            # the likely matches drives its m to 0, which Splink refuses. Either way the
            # estimates from the other blocks (and the u from random pairs) stand.
            logging.getLogger(__name__).warning("EM on one block skipped: %s", exc)
    report("train", 3, steps)
    linker = splink.Linker(table, _sane(linker.misc.save_model_to_json(), untrained),
                           log_level=logging.ERROR)
    parts = chunks or max(1, len(records) // 25_000)
    found = Linked(columns=used)
    for number in range(1, parts + 1):
        piece = (number, parts)
        blocked = linker.inference.compute_blocked_pairs_for_predict_chunk(piece, (1, 1))
        found.compared += int(blocked.as_duckdbpyrelation().count("*").fetchall()[0][0])
        scored = linker.inference.predict_chunk(piece, (1, 1),
                                                threshold_match_probability=threshold)
        found.pairs.extend(_pairs(scored))
        report("score", number, parts)
    return found


def _levels(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    return [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]


def _sane(model: dict[str, Any], untrained: dict[str, Any]) -> dict[str, Any]:
    """The trained model, kept sane: a level EM left unestimated keeps its default m; an
    agreement level never counts against a match (m below u: EM collapsed on a block of
    families); no level is impossible (``M_FLOOR``). Each comparison's m sum to 1 again."""
    defaults = {c["output_column_name"]: [lv.get("m_probability") for lv in _levels(c)]
                for c in untrained["comparisons"]}
    for comparison in model["comparisons"]:
        levels = _levels(comparison)
        start = defaults.get(comparison["output_column_name"], [])
        for position, level in enumerate(levels):
            m, u = level.get("m_probability"), level.get("u_probability")
            fallback = start[position] if position < len(start) else None
            # Agreement levels are those expected among one person's records (not the last,
            # "anything else", nor "two different given names").
            agreement = position < len(levels) - 1 and (fallback or 0.0) >= 0.01
            if m is None or (agreement and u is not None and m < u):
                m = fallback if fallback is not None else M_FLOOR
            level["m_probability"] = max(float(m), M_FLOOR)
        total = sum(lv["m_probability"] for lv in levels)
        for level in levels:
            level["m_probability"] /= total
    return model


def _em_rules(used: list[str], splink: Any) -> list[Any]:
    block_on = splink.block_on
    rules = []
    if "birthday" in used:
        rules.append(block_on("birthday"))
    if "name" in used:
        rules.append(block_on("given", "surname1"))
    return rules


def _pairs(scored: Any) -> Iterator[ScoredPair]:
    table = scored.as_pyarrow_table().select(
        ["unique_id_l", "unique_id_r", "match_probability", "match_weight"])
    for batch in table.to_batches(max_chunksize=10_000):
        columns = batch.to_pydict()
        for left, right, probability, weight in zip(
            columns["unique_id_l"], columns["unique_id_r"], columns["match_probability"],
            columns["match_weight"], strict=True,
        ):
            a, b = sorted((str(left), str(right)))
            yield ScoredPair(a, b, float(probability), float(weight))
