"""Identity resolution rules: a pure function from (identifiers, known holders) to a decision.

No database here; the service loads the facts, asks the engine, applies the decision, and
keeps the in-memory state current across a batch (``apply``). See ADR 0002 for the rules.

Rules, in order:
1. An identifier held by more than ``limit`` profiles is *shared*: it never links or merges
   (a family landline, a company switchboard email) and is flagged. It is still attached to a
   new holder (up to ``hard_cap``) so that a lookup shows every candidate.
2. External ids are unique per namespace: a profile with ``crm:1`` is never the same person as
   an event carrying ``crm:2``. Such profiles are excluded from the match.
3. No match: when only shared identifiers matched and the event brings no personal
   identifier that nobody holds (email, external id, account, phone), the event is
   *ambiguous* and keeps its candidates. Otherwise a new profile: a new person, or a web
   visitor known by an anonymous id only, whom a later identify links.
4. One match: attach. Several: merge them into the strongest match (oldest on ties), unless
   two of them carry conflicting external ids; then attach to the single strongest match if
   there is one, else ambiguous.
5. Evidence (when ``decline_at`` is given): a match by anything weaker than an external id
   is weighed against what the event and the profile say (names, date of birth, national
   id, another e-mail or mobile from the same source; ``evidence.py``). Strong
   disagreement declines the link: the event goes to a profile of its own (or to another
   match), the identifiers they share are flagged as shared so that lookups show both, and
   the pair is handed back for review. Profiles about to be merged are weighed against each
   other the same way. ADR 0013.
6. Among the holders of a shared identifier, an event whose evidence clearly describes one
   of them and declines every other attaches to that one (``_pick``); one whose evidence
   declines them all is a new person sharing it (``_nobody``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from circulo.identity import evidence
from circulo.identity.evidence import Evidence, Facts
from circulo.identity.normalize import Identifier, Kind

STRENGTH: dict[Kind, int] = {
    Kind.CUSTOMER_ID: 6,
    Kind.EXTERNAL_ID: 5,
    Kind.ACCOUNT: 4,
    Kind.EMAIL: 3,
    Kind.PHONE: 2,
    Kind.ANONYMOUS_ID: 1,
}


# Evidence that singles one holder of a shared identifier out: "Beatriz Ferrer Ruiz" on the
# family landline is Beatriz. A compatible name alone (+2: "Jordi Pujol" for the father
# "Jordi Pujol Riera", or his son) is not enough.
PICK_AT = 4.0


class Outcome(StrEnum):
    ATTACHED = "attached"
    CREATED = "created"
    MERGED = "merged"
    AMBIGUOUS = "ambiguous"
    ANONYMOUS = "anonymous"


@dataclass(slots=True)
class ProfileFacts:
    id: str
    created_at: datetime
    unique: dict[str, str] = field(default_factory=dict)  # namespace -> "ns:value"
    evidence: Facts = field(default_factory=Facts)


@dataclass(slots=True)
class IdentityState:
    """What the engine needs to know: who holds each identifier, and each holder's facts."""

    holders: dict[str, list[str]] = field(default_factory=dict)
    profiles: dict[str, ProfileFacts] = field(default_factory=dict)
    # Pairs whose merge was undone: a person said they are two people; never merge them again.
    separated: set[frozenset[str]] = field(default_factory=set)
    # Identifiers flagged as shared (by count, or because evidence declined a link through
    # them): they never link while two or more profiles hold them.
    flagged: set[str] = field(default_factory=set)
    # Role mailboxes (info@, pedidos@): nobody's own, they never link, even with one holder.
    roles: set[str] = field(default_factory=set)

    def separate(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.separated

    def holders_of(self, ident: Identifier) -> list[str]:
        return self.holders.get(ident.key, [])


@dataclass(slots=True)
class Declined:
    """A profile the identifiers pointed at, that the evidence says is someone else."""

    profile_id: str
    evidence: Evidence
    via: list[Identifier]  # the event's identifiers it holds: shared from now on


@dataclass(slots=True)
class Decision:
    outcome: Outcome
    profile_id: str | None = None
    add: list[Identifier] = field(default_factory=list)
    absorbed: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    shared: list[tuple[Identifier, int]] = field(default_factory=list)
    link: Identifier | None = None
    declined: list[Declined] = field(default_factory=list)

    @property
    def newly_shared(self) -> list[Identifier]:
        seen: dict[str, Identifier] = {}
        for d in self.declined:
            for ident in d.via:
                seen.setdefault(ident.key, ident)
        return list(seen.values())


def _conflict(a: dict[str, str], b: dict[str, str]) -> bool:
    return any(ns in b and b[ns] != value for ns, value in a.items())


def _unique_of(identifiers: Iterable[Identifier]) -> dict[str, str]:
    return {i.namespace: i.value for i in identifiers if i.kind == Kind.EXTERNAL_ID and i.namespace}


def resolve(
    identifiers: list[Identifier],
    state: IdentityState,
    *,
    limit: int,
    hard_cap: int,
    new_profile_id: Callable[[], str],
    anchor: str | None = None,
    facts: Facts | None = None,
    decline_at: float | None = None,
) -> Decision:
    """Decide which profile an event belongs to. ``anchor`` is an explicit customer id;
    ``facts`` what the event says about the person, weighed when ``decline_at`` is set."""
    idents = [i for i in identifiers if i.kind != Kind.CUSTOMER_ID]
    if not idents and anchor is None:
        return Decision(Outcome.ANONYMOUS)

    event_unique = _unique_of(idents)
    shared: list[tuple[Identifier, int]] = []
    # profile id -> strength of the best identifier that matched it
    matched: dict[str, int] = {}
    link_for: dict[str, Identifier] = {}
    held: dict[str, list[Identifier]] = {}
    shared_holders: set[str] = set()
    for ident in idents:
        holders = state.holders_of(ident)
        if len(holders) > limit or (len(holders) > 1 and ident.key in state.flagged) or (
                holders and ident.key in state.roles):
            shared.append((ident, len(holders)))
            shared_holders.update(holders)
            continue
        for pid in holders:
            if _conflict(state.profiles[pid].unique, event_unique):
                continue
            held.setdefault(pid, []).append(ident)
            strength = STRENGTH[ident.kind]
            if strength > matched.get(pid, 0):
                matched[pid] = strength
                link_for[pid] = ident

    threshold = decline_at if facts is not None else None
    declined: list[Declined] = []
    if facts is not None and threshold is not None and matched:
        contacts = [i for i in idents if i.kind in (Kind.EMAIL, Kind.PHONE)]
        for pid in sorted(matched):
            # An external id is the same record in the same system: no evidence overrides it.
            if pid == anchor or matched[pid] >= STRENGTH[Kind.EXTERNAL_ID]:
                continue
            if not facts.has_traits() and all(i in held[pid] for i in contacts):
                continue  # says nothing but what links them: nothing can disagree
            weighed = _weigh(facts, state.profiles[pid].evidence, held[pid], threshold)
            if weighed.declines(threshold):
                declined.append(Declined(pid, weighed, held[pid]))
                del matched[pid]

    if anchor is not None:
        matched[anchor] = STRENGTH[Kind.CUSTOMER_ID]

    candidates = sorted(
        p for p in shared_holders if not _conflict(state.profiles[p].unique, event_unique)
    ) if shared_holders else []
    if not matched:
        # The event's evidence may single out who, among the holders of a shared
        # identifier, it is about: that one becomes the match.
        for pid in _pick(facts, candidates, state, threshold):
            for ident, _ in shared:
                if pid in state.holders_of(ident):
                    held.setdefault(pid, []).append(ident)
                    if STRENGTH[ident.kind] > matched.get(pid, 0):
                        matched[pid] = STRENGTH[ident.kind]
                        link_for[pid] = ident

    if not matched:
        if declined or _nobody(facts, candidates, state, threshold):
            # Someone else holds these identifiers: a person of their own, sharing them.
            return Decision(
                Outcome.CREATED, new_profile_id(), add=_attachable(idents, state, None, hard_cap),
                shared=shared, declined=declined,
            )
        personal_new = [
            i for i in idents
            if not state.holders_of(i) and i.kind != Kind.ANONYMOUS_ID
        ]
        if candidates and not personal_new:
            return Decision(Outcome.AMBIGUOUS, candidates=candidates, shared=shared)
        pid = new_profile_id()
        return Decision(
            Outcome.CREATED, pid, add=_attachable(idents, state, None, hard_cap), shared=shared
        )

    ranked = sorted(
        matched, key=lambda p: (-matched[p], state.profiles[p].created_at, p)
    )
    if anchor is not None:
        ranked.remove(anchor)
        ranked.insert(0, anchor)
    survivor = ranked[0]
    others = ranked[1:]
    if others:
        merged_unique = dict(state.profiles[survivor].unique)
        compatible = True
        kept = [survivor]
        combined = Facts()
        if threshold is not None:
            combined.absorb(state.profiles[survivor].evidence)
            combined.absorb(facts or Facts())
        for pid in others:
            if _conflict(state.profiles[pid].unique, merged_unique) or any(
                state.separate(pid, k) for k in kept
            ):
                compatible = False
                break
            if threshold is not None and matched[pid] < STRENGTH[Kind.EXTERNAL_ID]:
                weighed = _weigh(combined, state.profiles[pid].evidence, held.get(pid, []),
                                 threshold)
                if weighed.declines(threshold):
                    if matched[pid] == matched[survivor] and anchor is None:
                        # Equally strong links to two different people: we cannot tell.
                        return Decision(Outcome.AMBIGUOUS, candidates=sorted([survivor, pid]),
                                        shared=shared)
                    declined.append(Declined(pid, weighed, held[pid]))
                    continue
                combined.absorb(state.profiles[pid].evidence)
            merged_unique.update(state.profiles[pid].unique)
            kept.append(pid)
        if not compatible:
            top = [p for p in ranked if matched[p] == matched[survivor]]
            if len(top) == 1 or anchor is not None:
                # Nothing is absorbed: an identifier of the other profiles is shared, not moved.
                return Decision(
                    Outcome.ATTACHED, survivor,
                    add=_attachable(idents, state, survivor, hard_cap), shared=shared,
                    declined=declined,
                )
            return Decision(Outcome.AMBIGUOUS, candidates=sorted(top), shared=shared)
        absorbed = kept[1:]
        if absorbed:
            return Decision(
                Outcome.MERGED, survivor,
                add=_attachable(idents, state, survivor, hard_cap, exclude=set(absorbed)),
                absorbed=absorbed, shared=shared, link=link_for.get(absorbed[0]),
                declined=declined,
            )
    return Decision(
        Outcome.ATTACHED, survivor, add=_attachable(idents, state, survivor, hard_cap),
        shared=shared, declined=declined,
    )


def _weigh(facts: Facts, profile: Facts, links: list[Identifier], threshold: float
           ) -> Evidence:
    """What the two sides say, and how they are linked (``evidence.through``: a landline
    alone can only lower the score by ``evidence.THROUGH_AT_MOST``, so it is looked at only
    when that could decline the link; telling a mobile from a landline costs a parse)."""
    weighed = evidence.compare(facts, profile)
    if weighed.score - evidence.THROUGH_AT_MOST > threshold:
        return weighed
    return evidence.through(weighed, [(i.kind.value, i.value) for i in links])


def _pick(facts: Facts | None, candidates: list[str], state: IdentityState,
          threshold: float | None) -> list[str]:
    """Among the holders of a shared identifier, the one the event clearly describes: its
    evidence agrees strongly (``PICK_AT``: an exact name, or a compatible name and a date of
    birth) and every other candidate's disagrees (declined). Otherwise nobody is picked."""
    if facts is None or threshold is None or len(candidates) < 2 or not facts.has_traits():
        return []
    scores = {c: evidence.compare(facts, state.profiles[c].evidence).score for c in candidates}
    agreeing = [c for c, score in scores.items() if score >= PICK_AT]
    # Exactly one: two who both fit (two Ana Garcías on a switchboard) stay two people.
    if len(agreeing) == 1 and all(score <= threshold for c, score in scores.items()
                                  if c != agreeing[0]):
        return agreeing
    return []


def _nobody(facts: Facts | None, candidates: list[str], state: IdentityState,
            threshold: float | None) -> bool:
    """The event says who it is, and it is none of the holders of the shared identifiers
    it came with (Debbie writing from info@, which only Charlie used so far)."""
    if facts is None or threshold is None or not candidates or not facts.has_traits():
        return False
    return all(evidence.compare(facts, state.profiles[c].evidence).declines(threshold)
               for c in candidates)


def _attachable(
    idents: list[Identifier],
    state: IdentityState,
    profile_id: str | None,
    hard_cap: int,
    exclude: set[str] | None = None,
) -> list[Identifier]:
    """Identifiers the profile does not hold yet and may take.

    An identifier held by a profile that conflicts with this one (another external id of the
    same namespace) still attaches: it becomes shared, which is exactly what a family phone
    is. A profile never takes a second external id of a namespace it already has.
    """
    own_unique = state.profiles[profile_id].unique if profile_id in state.profiles else {}
    result = []
    for ident in idents:
        holders = state.holders_of(ident)
        if profile_id is not None and profile_id in holders:
            continue
        if exclude and any(h in exclude for h in holders) and len(holders) == 1:
            # Held by a profile being absorbed: it moves with the merge.
            continue
        if ident.kind == Kind.EXTERNAL_ID and ident.namespace in own_unique:
            continue
        if len(holders) >= hard_cap:
            continue
        result.append(ident)
    return result


def apply(
    state: IdentityState, decision: Decision, *, created_at: datetime,
    facts: Facts | None = None,
) -> None:
    """Bring the in-memory state up to date with a decision (within a batch)."""
    pid = decision.profile_id
    if pid is None:
        return
    if decision.declined:
        state.flagged.update(i.key for i in decision.newly_shared)
    if decision.outcome == Outcome.CREATED:
        state.profiles[pid] = ProfileFacts(pid, created_at)
    profile = state.profiles[pid]
    if facts is not None:
        profile.evidence.absorb(facts)
    for absorbed in decision.absorbed:
        gone = state.profiles.pop(absorbed)
        profile.unique.update(gone.unique)
        profile.evidence.absorb(gone.evidence)
        state.separated = {
            frozenset(pid if p == absorbed else p for p in pair) for pair in state.separated
        }
        for holders in state.holders.values():
            if absorbed in holders:
                holders.remove(absorbed)
                if pid not in holders:
                    holders.append(pid)
    for ident in decision.add:
        holders = state.holders.setdefault(ident.key, [])
        if pid not in holders:
            holders.append(pid)
        if ident.kind == Kind.EXTERNAL_ID and ident.namespace:
            profile.unique.setdefault(ident.namespace, ident.value)
