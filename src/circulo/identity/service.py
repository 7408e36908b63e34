"""Identity resolution, merges and their undo: the rules applied to the database.

``resolve_batch`` decides for a whole batch in memory (engine), then writes once: new
profiles, merges (moving rows, combining state), new identifier rows, shared flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.customers.state import ProfileState
from circulo.errors import Conflict, NotFound, ValidationFailed
from circulo.identity import engine
from circulo.identity import repository as repo
from circulo.identity.engine import Decision, IdentityState, Outcome, ProfileFacts
from circulo.identity.evidence import Facts, facts_from_traits, profile_facts
from circulo.identity.models import MergeLogEntry
from circulo.identity.normalize import (
    Identifier,
    InvalidIdentifier,
    JunkIdentifier,
    Kind,
    is_role_email,
    normalize_account,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from circulo.ids import new_id

HARD_CAP = 50  # an identifier on this many profiles is a switchboard, not a person


class DifferentIds(Conflict):
    """Two customers with different ids in one system's namespace: two people."""


@dataclass(slots=True)
class ResolveItem:
    identifiers: list[Identifier]
    anchor: str | None
    source: str
    event_id: str
    traits: dict[str, Any] | None = None  # what the event says about the person
    facts: Facts | None = None  # the evidence in it, when the batch may weigh it (_reads)


def event_facts(identifiers: Sequence[Identifier], traits: dict[str, Any] | None,
                source: str) -> Facts:
    """The evidence an event carries: its traits, and, when it describes the person (it has
    traits), its e-mails and phones as given by its source (profiles keep them alike:
    ``customers.apply_event``)."""
    if not traits:
        return Facts()
    facts = facts_from_traits(traits, source)
    for ident in identifiers:
        if ident.kind in (Kind.EMAIL, Kind.PHONE):
            facts.add_contact(ident.kind.value, ident.value, source)
    return facts


@dataclass(slots=True)
class Resolved:
    decisions: list[Decision]  # profile ids already followed through in-batch merges
    profiles: dict[str, ProfileState]  # every active profile the batch touches
    merges: list[MergeLogEntry]
    # Per decision, the profile it chose before in-batch merges: the origin of the event's
    # rows, so that undoing such a merge gives them back to that profile.
    origins: list[str | None]


def _final(pid: str, redirect: dict[str, str]) -> str:
    while pid in redirect:
        pid = redirect[pid]
    return pid


@dataclass(slots=True)
class _Reads:
    """Which stored profiles a batch needs more than identifiers of (``_reads``)."""

    merge: set[str]  # could be merged: separations, traits and contacts are read
    traits: set[str]  # names, dates and contacts by source are weighed against them
    weighed: list[bool]  # per item: may its evidence change a decision?


def _reads(items: Sequence[ResolveItem], holders: dict[str, list[str]]) -> _Reads:
    """Items that share an identifier are linked (union-find over identifier keys), since an
    event can hand a profile an identifier that a later event of the batch links through.
    Stored profiles holding identifiers of one linked group may be merged together (when
    there are two or more of them). A group with one stored profile needs its traits only if
    some event of the group says who it is (only such events state contacts, so that is
    also when contacts are read). Events of a group where neither happens cannot be
    declined or merged by evidence: they are not weighed at all."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    all_keys = []
    for item in items:
        keys = [i.key for i in item.identifiers if i.kind != Kind.CUSTOMER_ID]
        if item.anchor:
            keys.append(f"anchor:{item.anchor}")
        all_keys.append(keys)
        if len(keys) > 1:
            root = find(keys[0])
            for key in keys[1:]:
                other = find(key)
                if other != root:
                    parent[other] = root
    stored: dict[str, set[str]] = {}
    said: set[str] = set()
    groups: list[str | None] = []
    for item, keys in zip(items, all_keys, strict=True):
        if not keys:
            groups.append(None)
            continue
        group = find(keys[0])
        groups.append(group)
        found = stored.setdefault(group, set())
        for key in keys:
            found.update(holders.get(key, ()))
        if item.anchor:
            found.add(item.anchor)
        if item.traits:
            said.add(group)
    plural = {group for group, found in stored.items() if len(found) > 1}
    merge = {p for group in plural for p in stored[group]}
    traits = merge | {p for group in said for p in stored[group]}
    weighed_groups = plural | said
    return _Reads(merge, traits, [g in weighed_groups for g in groups])


def _load_state(session: Session, items: Sequence[ResolveItem], evidence: bool,
                roles: frozenset[str] = frozenset()) -> IdentityState:
    idents = [i for item in items for i in item.identifiers if i.kind != Kind.CUSTOMER_ID]
    anchors = [item.anchor for item in items if item.anchor]
    pairs = [(i.kind.value, i.value) for i in idents]
    holders, flagged = repo.holders_and_flags(session, pairs, flags=evidence)
    pids = sorted({p for hs in holders.values() for p in hs} | set(anchors))
    reads = _reads(items, holders)
    created = customers.created_at_of(session, pids)
    state = IdentityState(holders=holders, flagged=flagged)
    if evidence:  # role mailboxes (info@, pedidos@) are shared by nature
        state.roles = {i.key for i in idents
                       if i.kind == Kind.EMAIL and is_role_email(i.value, roles)}
    merge = reads.merge
    if evidence:
        for item, weighed in zip(items, reads.weighed, strict=True):
            item.facts = event_facts(item.identifiers, item.traits, item.source) \
                if weighed else None
    unique = repo.external_ids_of(session, pids)
    state.profiles = {p: ProfileFacts(p, created[p], unique.get(p, {}))
                      for p in pids if p in created}
    if evidence:
        for pid, known in customers.evidence_of(session, sorted(reads.traits)).items():
            if pid in state.profiles:
                state.profiles[pid].evidence = profile_facts(known.traits, known.trait_meta,
                                                             known.contacts)
    if merge:
        state.separated = separations(session, sorted(merge))
    return state


def separations(session: Session, active: Sequence[str]) -> set[frozenset[str]]:
    """Pairs among these active customers (and others) known to be two people: a merge
    undone, a suggestion rejected; followed through later merges, since whatever absorbed
    one of them is still not the other."""
    root_of = customers.roots_of_members(session, active)
    members = sorted(set(active) | set(root_of))
    return {frozenset((root_of.get(a, a), root_of.get(b, b)))
            for a, b in repo.separated_pairs(session, members)}


def are_separated(session: Session, a: str, b: str) -> bool:
    """Whether a person said these two active customers (or any they absorbed) are two."""
    return frozenset((a, b)) in separations(session, [a, b])


def resolve_batch(session: Session, items: Sequence[ResolveItem], settings: Settings,
                  policies: customers.Policies, now: datetime, actor: str) -> Resolved:
    evidence = settings.identity_evidence
    state = _load_state(session, items, evidence, frozenset(settings.role_mailboxes))
    decline_at = settings.identity_decline_at if evidence else None

    decisions: list[Decision] = []
    for item in items:
        decision = engine.resolve(
            item.identifiers, state, limit=settings.max_profiles_per_identifier,
            hard_cap=HARD_CAP, new_profile_id=new_id, anchor=item.anchor,
            facts=item.facts, decline_at=decline_at,
        )
        engine.apply(state, decision, created_at=now, facts=item.facts)
        decisions.append(decision)

    touched = {d.profile_id for d in decisions if d.profile_id and d.outcome != Outcome.CREATED}
    touched |= {a for d in decisions for a in d.absorbed}
    profiles = customers.load_profiles(session, touched, for_update=True)
    redirect: dict[str, str] = {}
    for pid, profile in list(profiles.items()):
        if profile.status != "active":
            # A concurrent writer merged it after we read the holders: follow it (locked).
            root_id = customers.active_root(session, pid).id
            profiles.update(customers.load_profiles(session, [root_id], for_update=True))
            redirect[pid] = root_id
    for d in decisions:
        if d.outcome == Outcome.CREATED and d.profile_id:
            profiles[d.profile_id] = customers.new_profile(d.profile_id, now)
    # New profiles exist before anything refers to them (identifier rows, merges).
    customers.save(session, profiles.values())

    merges: list[MergeLogEntry] = []
    flags: dict[tuple[str, str], int] = {}
    for item, d in zip(items, decisions, strict=True):
        for ident, count in d.shared:
            # Plus this event's profile, if it takes the identifier (it may hold it already).
            count += 1 if ident in d.add else 0
            if count > settings.max_profiles_per_identifier:  # the rest were flagged by evidence
                flags[(ident.kind.value, ident.value)] = count
        if d.outcome != Outcome.MERGED or d.profile_id is None:
            continue
        survivor = profiles[_final(d.profile_id, redirect)]
        for absorbed_id in d.absorbed:
            absorbed = profiles[_final(absorbed_id, redirect)]
            if absorbed.id == survivor.id:
                continue
            merges.append(_merge(session, survivor, absorbed, policies, now, actor=actor,
                                 reason=f"event linked them by {d.link.kind if d.link else '?'}",
                                 link_kind=d.link.kind.value if d.link else None,
                                 event_id=item.event_id, close=False))
            redirect[absorbed.id] = survivor.id

    rows: list[dict[str, object]] = []
    origins = [d.profile_id for d in decisions]
    for item, d in zip(items, decisions, strict=True):
        if d.profile_id is None:
            continue
        origin = d.profile_id
        final = _final(origin, redirect)
        d.profile_id = final
        rows.extend(
            {"kind": i.kind.value, "value": i.value, "profile_id": final,
             "origin_profile_id": origin, "source": item.source, "created_at": now}
            for i in d.add
        )
    for d in decisions:
        if d.outcome == Outcome.AMBIGUOUS:
            d.candidates = sorted({_final(c, redirect) for c in d.candidates})
    repo.insert_identifiers(session, rows)
    customers.save(session, profiles.values())  # the absorbed ones; the rest after folding
    if merges:
        repo.close_after_merge(session, [m.absorbed_id for m in merges], now=now)
    if flags:
        repo.flag_shared(session, flags, now)
    _record_declines(session, items, decisions, state, redirect, now)
    active = {pid: p for pid, p in profiles.items() if p.status == "active"}
    return Resolved(decisions, active, merges, origins)


def _record_declines(session: Session, items: Sequence[ResolveItem],
                     decisions: Sequence[Decision], state: IdentityState,
                     redirect: dict[str, str], now: datetime) -> None:
    """Links the evidence declined: their identifiers are flagged as shared (so lookups show
    every holder and they never link again), and each pair goes to the review queue."""
    flags: dict[tuple[str, str], int] = {}
    proposals: dict[str, dict[str, Any]] = {}
    for item, d in zip(items, decisions, strict=True):
        if not d.declined or d.profile_id is None:
            continue
        for ident in d.newly_shared:
            flags[(ident.kind.value, ident.value)] = len(state.holders_of(ident))
        for declined in d.declined:
            other = _final(declined.profile_id, redirect)
            if other == d.profile_id or state.separate(d.profile_id, other):
                continue
            key = ":".join(sorted((d.profile_id, other)))
            proposals.setdefault(key, suggestion_row(
                key, d.profile_id, other, origin="ingest", score=declined.evidence.score,
                probability=None, evidence=[f.as_dict() for f in declined.evidence.fields],
                shared=[{"kind": i.kind.value, "value": i.value} for i in declined.via],
                event_id=item.event_id, run_id=None, now=now))
    if flags:
        session.flush()  # so that a flag the limit rule added in this batch is found
        repo.flag_shared(session, flags, now, reason="declined")
    live = repo.live_pair_keys(session, list(proposals))
    repo.propose(session, [row for key, row in proposals.items() if key not in live])


def suggestion_row(key: str, a: str, b: str, *, origin: str, score: float,
                   probability: float | None, evidence: list[dict[str, Any]],
                   shared: list[dict[str, str]], event_id: str | None, run_id: str | None,
                   now: datetime) -> dict[str, Any]:
    return {"id": new_id(), "pair_key": key, "profile_a": a, "profile_b": b,
            "status": "open", "origin": origin, "score": score, "probability": probability,
            "evidence": evidence, "shared": shared, "event_id": event_id, "run_id": run_id,
            "created_at": now}


def _merge(session: Session, survivor: ProfileState, absorbed: ProfileState,
           policies: customers.Policies,
           now: datetime, *, actor: str, reason: str, link_kind: str | None,
           event_id: str | None, close: bool = True) -> MergeLogEntry:
    """``close``: the open suggestions about the absorbed customer are closed here (a batch
    closes those of all its merges at once instead)."""
    repo.move_identifiers(session, absorbed.id, survivor.id)
    customers.absorb(session, survivor, absorbed, policies, now)
    if close:  # what was suggested about the absorbed one was about a profile now gone
        repo.close_after_merge(session, [absorbed.id], now=now)
    entry = MergeLogEntry(
        id=new_id(), action="merge", survivor_id=survivor.id, absorbed_id=absorbed.id,
        undoes_id=None, reason=reason, link_kind=link_kind, event_id=event_id, actor=actor,
        created_at=now,
    )
    repo.add_merge_log(session, entry)
    return entry


def unshare_if_single(session: Session, pairs: Sequence[tuple[str, str]]) -> None:
    """Identifiers flagged as shared because evidence told two holders apart, that one
    customer holds again (the two were merged after review): they link again."""
    counts = repo.holder_counts(session, pairs)
    single = [pair for pair in pairs if counts.get(pair, 0) <= 1]
    if single:
        repo.unflag(session, single, reason="declined")


def lock(session: Session, keys: Sequence[str]) -> None:
    """Serialise concurrent writers on these keys (identifiers, client ids, record keys)."""
    repo.lock_identifiers(session, keys)


def merge_manually(session: Session, survivor_id: str, absorbed_id: str, reason: str,
                   policies: customers.Policies, now: datetime, actor: str) -> MergeLogEntry:
    survivor_id = customers.active_root(session, survivor_id).id
    absorbed_id = customers.active_root(session, absorbed_id).id
    if survivor_id == absorbed_id:
        raise Conflict("these two ids are already the same customer", field="absorbed_id")
    locked = customers.load_profiles(session, [survivor_id, absorbed_id], for_update=True)
    survivor, absorbed = locked[survivor_id], locked[absorbed_id]
    both = [survivor.id, absorbed.id]
    unique = repo.external_ids_of(session, both)
    a, b = unique.get(survivor.id, {}), unique.get(absorbed.id, {})
    clash = sorted(ns for ns in a if ns in b and a[ns] != b[ns])
    if clash:
        raise DifferentIds(
            f"the two customers have different ids in {', '.join(clash)}: they are two people",
            field="absorbed_id",
        )
    entry = _merge(session, survivor, absorbed, policies, now, actor=actor,
                   reason=reason or "manual merge", link_kind=None, event_id=None)
    customers.save(session, [survivor, absorbed])
    return entry


def undo_merge(session: Session, merge_id: str, policies: customers.Policies, now: datetime,
               actor: str) -> MergeLogEntry:
    """Give the absorbed customer back its identifiers, events and records (and those of
    everything merged into it before), then rebuild both profiles' state from their data."""
    entry = repo.get_merge(session, merge_id)
    if entry is None or entry.action != "merge":
        raise NotFound(f"merge '{merge_id}' does not exist", field="merge_id")
    if repo.undo_of(session, merge_id) is not None:
        raise Conflict(f"merge '{merge_id}' was already undone", field="merge_id")
    try:
        root_id = customers.active_root(session, entry.survivor_id).id
    except NotFound as exc:
        raise Conflict("the merged customers no longer exist (erased)", field="merge_id") from exc
    locked = customers.load_profiles(session, [root_id, entry.absorbed_id], for_update=True)
    absorbed = locked.get(entry.absorbed_id)
    if absorbed is None or absorbed.status != "merged" or absorbed.merged_into != entry.survivor_id:
        raise Conflict("the absorbed customer no longer exists as merged (erased?)",
                       field="merge_id")
    root = locked[root_id]
    cluster = customers.cluster_of(session, absorbed.id)
    repo.restore_identifiers(session, cluster, absorbed.id)
    customers.restore(session, absorbed, cluster)
    customers.recompute(session, root, policies, now)
    customers.recompute(session, absorbed, policies, now)
    customers.save(session, [root, absorbed])
    undo = MergeLogEntry(
        id=new_id(), action="undo", survivor_id=entry.survivor_id, absorbed_id=absorbed.id,
        undoes_id=entry.id, reason=f"undo of {entry.id}", link_kind=entry.link_kind,
        event_id=None, actor=actor, created_at=now,
    )
    repo.add_merge_log(session, undo)
    return undo


def normalize_lookup(kind: str, value: str, settings: Settings) -> Identifier:
    """Normalise a single identifier given in a query (card lookup)."""
    try:
        if kind == "phone":
            if value.strip().lower() in settings.all_junk_values:  # "anonymous": withheld
                return Identifier(Kind.PHONE, "")
            return Identifier(Kind.PHONE, normalize_phone(value, settings.default_region))
        if kind == "email":
            return Identifier(Kind.EMAIL, normalize_email(value))
        if kind == "external_id":
            namespace, sep, raw = value.partition(":")
            if not sep:
                raise ValidationFailed(
                    "external_id must be written source:id, e.g. crm:C-1",
                    errors=[{"field": "external_id", "code": "invalid_external_id",
                             "detail": "expected source:id"}],
                )
            return Identifier(Kind.EXTERNAL_ID, normalize_external_id(namespace, raw))
        if kind == "account":
            return Identifier(Kind.ACCOUNT, normalize_account(value))
    except JunkIdentifier:
        return Identifier(Kind(kind), "")
    except InvalidIdentifier as exc:
        raise ValidationFailed(exc.detail, errors=[
            {"field": kind, "code": exc.code, "detail": exc.detail}
        ]) from exc
    raise ValidationFailed(f"unknown identifier kind '{kind}'")


def find_customers(session: Session, ident: Identifier) -> list[str]:
    if not ident.value:
        return []
    return repo.profiles_holding(session, ident.kind.value, ident.value)


@dataclass(frozen=True, slots=True)
class IdentifierView:
    """One of a customer's identifiers: ``external_id`` values are ``namespace:id``."""

    kind: str
    value: str
    source: str
    since: str  # ISO 8601


def identifiers_of(session: Session, profile_id: str) -> list[IdentifierView]:
    seen: set[tuple[str, str]] = set()
    out = []
    for row in repo.identifiers_of(session, profile_id):
        if (row.kind, row.value) not in seen:
            seen.add((row.kind, row.value))
            out.append(IdentifierView(row.kind, row.value, row.source,
                                      row.created_at.isoformat()))
    return out


def contact_points_of(session: Session, profile_ids: Sequence[str]
                      ) -> dict[str, list[tuple[str, str]]]:
    """Phones and emails per profile, oldest first (for campaigns and notifications)."""
    return repo.contact_points_of(session, profile_ids)


def merges_for(session: Session, profile_ids: Sequence[str] | None, limit: int = 100
               ) -> list[MergeLogEntry]:
    return repo.merges_involving(session, profile_ids, limit)


def is_undone(session: Session, merge_id: str) -> bool:
    return repo.undo_of(session, merge_id) is not None


def shared_identifiers(session: Session, limit: int = 100) -> list[dict[str, object]]:
    return [
        {"kind": f.kind, "value": f.value, "profile_count": f.profile_count,
         "first_flagged_at": f.first_flagged_at.isoformat(),
         "last_seen_at": f.last_seen_at.isoformat(), "reason": f.reason}
        for f in repo.list_shared(session, limit)
    ]


def identifiers_for_erasure(session: Session, profile_ids: Sequence[str]
                            ) -> list[tuple[str, str]]:
    """(kind, value) of every identifier these profiles hold or started with."""
    return repo.identifiers_for_erasure(session, profile_ids)


def still_held(session: Session, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these identifiers some profile holds (another member of a family, say)."""
    held = repo.holders(session, pairs)
    return {(kind, value) for kind, value in pairs if held.get(f"{kind}:{value}")}


def erase(session: Session, profile_ids: Sequence[str], now: datetime) -> dict[str, int]:
    """Remove every identifier of these profiles and scrub them from the merge log."""
    rows = repo.identifiers_for_erasure(session, profile_ids)
    removed = repo.delete_identifiers(session, profile_ids)
    repo.delete_flags(session, rows)
    repo.scrub_merge_log(session, profile_ids)
    repo.scrub_suggestions(session, profile_ids, now)
    repo.delete_dedupe_pairs_of(session, profile_ids)
    return {"identifiers": removed}
