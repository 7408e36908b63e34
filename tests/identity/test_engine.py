"""The identity rules as a pure function: hand-built state in, a decision out. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from circulo.identity.engine import (
    Decision,
    IdentityState,
    Outcome,
    ProfileFacts,
    apply,
    resolve,
)
from circulo.identity.normalize import Identifier, Kind

T0 = datetime(2026, 1, 1, tzinfo=UTC)

PHONE = Identifier(Kind.PHONE, "+34600111222")
PHONE_2 = Identifier(Kind.PHONE, "+34600333444")
EMAIL = Identifier(Kind.EMAIL, "ana@example.es")
EMAIL_2 = Identifier(Kind.EMAIL, "luis@example.es")
CRM_1 = Identifier(Kind.EXTERNAL_ID, "crm:C-1")
CRM_2 = Identifier(Kind.EXTERNAL_ID, "crm:C-2")
CRM_3 = Identifier(Kind.EXTERNAL_ID, "crm:C-3")
SHOP_1 = Identifier(Kind.EXTERNAL_ID, "shop:S-1")
ACCOUNT = Identifier(Kind.ACCOUNT, "ES001")
ANON = Identifier(Kind.ANONYMOUS_ID, "cookie-1")


class Builder:
    """A state of profiles, each created a day after the previous one unless told."""

    def __init__(self) -> None:
        self.state = IdentityState()
        self._day = count()

    def profile(self, pid: str, *idents: Identifier, created_at: datetime | None = None
                ) -> str:
        facts = ProfileFacts(pid, created_at or T0 + timedelta(days=next(self._day)))
        self.state.profiles[pid] = facts
        for ident in idents:
            holders = self.state.holders.setdefault(ident.key, [])
            if pid not in holders:
                holders.append(pid)
            if ident.kind == Kind.EXTERNAL_ID and ident.namespace:
                facts.unique.setdefault(ident.namespace, ident.value)
        return pid


def run(state: IdentityState, *idents: Identifier, limit: int = 2, hard_cap: int = 50,
        anchor: str | None = None, new_id: str = "NEW") -> Decision:
    return resolve(list(idents), state, limit=limit, hard_cap=hard_cap,
                   new_profile_id=lambda: new_id, anchor=anchor)


@pytest.fixture
def b() -> Builder:
    return Builder()


# --- anonymous, create, attach --------------------------------------------------------------

def test_no_identifiers_is_anonymous(b: Builder) -> None:
    decision = run(b.state)
    assert decision.outcome == Outcome.ANONYMOUS
    assert decision.profile_id is None
    assert decision.add == []


def test_a_customer_id_alone_without_anchor_is_anonymous(b: Builder) -> None:
    b.profile("P1", EMAIL)
    decision = run(b.state, Identifier(Kind.CUSTOMER_ID, "P1"))
    assert decision.outcome == Outcome.ANONYMOUS


def test_unknown_personal_identifiers_create_a_profile(b: Builder) -> None:
    b.profile("P1", EMAIL)
    decision = run(b.state, PHONE_2, EMAIL_2, new_id="P9")
    assert decision.outcome == Outcome.CREATED
    assert decision.profile_id == "P9"
    assert set(decision.add) == {PHONE_2, EMAIL_2}
    assert decision.absorbed == [] and decision.candidates == []


def test_one_match_attaches_and_adds_the_new_identifiers(b: Builder) -> None:
    b.profile("P1", EMAIL)
    b.profile("P2", EMAIL_2)
    decision = run(b.state, EMAIL, PHONE)
    assert decision.outcome == Outcome.ATTACHED
    assert decision.profile_id == "P1"
    assert decision.add == [PHONE]
    assert decision.absorbed == []


def test_attach_by_weak_identifier_never_adds_a_second_crm_id(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    decision = run(b.state, PHONE, SHOP_1)
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "P1"
    assert decision.add == [SHOP_1]  # another namespace is fine


# --- merges ---------------------------------------------------------------------------------

def test_event_linking_two_profiles_merges_into_the_strongest_match(b: Builder) -> None:
    b.profile("OLD", PHONE)        # older, matched by phone (weak)
    b.profile("YOUNG", EMAIL)      # younger, matched by email (stronger)
    decision = run(b.state, PHONE, EMAIL)
    assert decision.outcome == Outcome.MERGED
    assert decision.profile_id == "YOUNG"
    assert decision.absorbed == ["OLD"]
    assert decision.link == PHONE
    # The phone moves with the absorbed profile; nothing is added twice.
    assert decision.add == []


def test_merge_survivor_is_the_oldest_on_equal_strength(b: Builder) -> None:
    b.profile("B", PHONE_2, created_at=T0 + timedelta(days=5))
    b.profile("A", PHONE, created_at=T0)  # inserted second, but older
    decision = run(b.state, PHONE_2, PHONE)
    assert decision.outcome == Outcome.MERGED
    assert decision.profile_id == "A"
    assert decision.absorbed == ["B"]


def test_merge_of_three_profiles(b: Builder) -> None:
    b.profile("P1", PHONE)
    b.profile("P2", EMAIL)
    b.profile("P3", CRM_1)
    decision = run(b.state, PHONE, EMAIL, CRM_1, ACCOUNT)
    assert decision.outcome == Outcome.MERGED
    assert decision.profile_id == "P3"  # external id is the strongest
    assert decision.absorbed == ["P2", "P1"]  # by strength
    assert decision.add == [ACCOUNT]


def test_merge_keeps_compatible_external_ids(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", SHOP_1, EMAIL)  # another namespace: no conflict
    decision = run(b.state, PHONE, EMAIL)
    assert decision.outcome == Outcome.MERGED
    assert {decision.profile_id, *decision.absorbed} == {"P1", "P2"}


def test_apply_merge_moves_holders_and_unique_ids(b: Builder) -> None:
    b.profile("P1", PHONE, CRM_1)
    b.profile("P2", EMAIL, SHOP_1)
    b.profile("P3", EMAIL_2)
    b.state.separated.add(frozenset(("P1", "P3")))
    decision = run(b.state, PHONE, EMAIL, ACCOUNT)
    assert decision.outcome == Outcome.MERGED and decision.profile_id == "P2"
    apply(b.state, decision, created_at=T0)
    assert "P1" not in b.state.profiles
    assert b.state.holders[PHONE.key] == ["P2"]
    assert b.state.holders[ACCOUNT.key] == ["P2"]
    assert b.state.profiles["P2"].unique == {"shop": "shop:S-1", "crm": "crm:C-1"}
    # P3 said it is not P1; P1 is now P2, so P3 is not P2 either.
    assert b.state.separate("P2", "P3")
    # The next event in the batch sees the merged customer.
    again = run(b.state, PHONE)
    assert again.outcome == Outcome.ATTACHED and again.profile_id == "P2"


def test_apply_create_registers_the_profile(b: Builder) -> None:
    decision = run(b.state, EMAIL, CRM_1, new_id="N1")
    apply(b.state, decision, created_at=T0)
    assert b.state.profiles["N1"].created_at == T0
    assert b.state.profiles["N1"].unique == {"crm": "crm:C-1"}
    assert b.state.holders[EMAIL.key] == ["N1"]
    second = run(b.state, EMAIL, PHONE)
    assert second.outcome == Outcome.ATTACHED and second.profile_id == "N1"


# --- external id conflicts ------------------------------------------------------------------

def test_profiles_with_different_crm_ids_never_merge(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", CRM_2, EMAIL)
    decision = run(b.state, PHONE, EMAIL)
    assert decision.outcome == Outcome.ATTACHED
    assert decision.profile_id == "P2"  # the single strongest match
    assert decision.absorbed == []


def test_conflict_with_equal_strength_is_ambiguous(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", CRM_2, PHONE_2)
    decision = run(b.state, PHONE, PHONE_2)
    assert decision.outcome == Outcome.AMBIGUOUS
    assert decision.profile_id is None
    assert decision.candidates == ["P1", "P2"]
    assert decision.absorbed == []


def test_shared_phone_between_two_crm_customers_is_ambiguous(b: Builder) -> None:
    # Held by two profiles: within the limit, but the two are different people.
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", CRM_2, PHONE)
    decision = run(b.state, PHONE)
    assert decision.outcome == Outcome.AMBIGUOUS
    assert decision.candidates == ["P1", "P2"]


def test_event_crm_id_excludes_a_profile_with_another_crm_id(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", CRM_2)
    decision = run(b.state, CRM_2, PHONE)
    assert decision.outcome == Outcome.ATTACHED
    assert decision.profile_id == "P2"
    # The phone becomes shared by both: exactly a family phone.
    assert decision.add == [PHONE]


def test_event_with_new_crm_id_and_a_known_phone_creates_a_profile(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    decision = run(b.state, CRM_2, PHONE, new_id="N")
    assert decision.outcome == Outcome.CREATED
    assert decision.profile_id == "N"
    assert set(decision.add) == {CRM_2, PHONE}


def test_conflicting_attach_shares_the_other_profiles_identifier(b: Builder) -> None:
    """The event says the crm:C-2 customer uses this phone; the phone is crm:C-1's as well.
    The phone is shared by both from now on (like an event carrying crm:C-2 and the phone),
    so that the next call from it is not popped as crm:C-1's alone."""
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", CRM_2, EMAIL)
    decision = run(b.state, PHONE, EMAIL)
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "P2"
    assert decision.add == [PHONE]
    apply(b.state, decision, created_at=T0)
    assert sorted(b.state.holders[PHONE.key]) == ["P1", "P2"]
    follow_up = run(b.state, PHONE)
    assert follow_up.outcome == Outcome.AMBIGUOUS
    assert follow_up.candidates == ["P1", "P2"]


# --- shared identifiers (over the limit) ----------------------------------------------------

def test_identifier_over_the_limit_is_reported_and_never_merges(b: Builder) -> None:
    b.profile("P1", PHONE)
    b.profile("P2", PHONE)
    b.profile("P3", EMAIL)
    decision = run(b.state, PHONE, EMAIL, limit=1)
    assert decision.outcome == Outcome.ATTACHED
    assert decision.profile_id == "P3"
    assert decision.absorbed == []
    assert decision.shared == [(PHONE, 2)]
    # Still attached to the new holder, so that a lookup shows every candidate.
    assert decision.add == [PHONE]


def test_identifier_at_the_limit_is_not_shared(b: Builder) -> None:
    b.profile("P1", PHONE)
    b.profile("P2", EMAIL)
    decision = run(b.state, PHONE, EMAIL, limit=1)
    assert decision.shared == []
    assert decision.outcome == Outcome.MERGED


def test_only_a_shared_identifier_is_ambiguous_with_candidates(b: Builder) -> None:
    b.profile("P3", PHONE)
    b.profile("P1", PHONE)
    b.profile("P2", PHONE)
    decision = run(b.state, PHONE)  # 3 holders > limit 2
    assert decision.outcome == Outcome.AMBIGUOUS
    assert decision.profile_id is None
    assert decision.candidates == ["P1", "P2", "P3"]
    assert decision.shared == [(PHONE, 3)]
    assert decision.absorbed == []


def test_shared_identifier_with_anonymous_id_is_ambiguous(b: Builder) -> None:
    for pid in ("P1", "P2", "P3"):
        b.profile(pid, PHONE)
    decision = run(b.state, PHONE, ANON)
    assert decision.outcome == Outcome.AMBIGUOUS
    assert decision.candidates == ["P1", "P2", "P3"]


def test_shared_identifier_with_a_new_email_creates_without_merging(b: Builder) -> None:
    for pid in ("P1", "P2", "P3"):
        b.profile(pid, PHONE)
    decision = run(b.state, PHONE, EMAIL, new_id="N")
    assert decision.outcome == Outcome.CREATED
    assert decision.profile_id == "N"
    assert decision.absorbed == []
    assert decision.shared == [(PHONE, 3)]


def test_shared_phone_with_a_new_crm_id_is_a_new_customer(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", CRM_2, PHONE)
    b.profile("P3", PHONE)
    decision = run(b.state, PHONE, CRM_3, new_id="N")
    assert decision.outcome == Outcome.CREATED  # crm:C-3 is new: a new person
    assert decision.profile_id == "N"
    assert decision.shared == [(PHONE, 3)]
    assert set(decision.add) == {CRM_3, PHONE}


def test_hard_cap_stops_attaching_a_switchboard(b: Builder) -> None:
    for pid in ("P1", "P2", "P3"):
        b.profile(pid, PHONE)
    decision = run(b.state, PHONE, EMAIL, hard_cap=3, new_id="N")
    assert decision.outcome == Outcome.CREATED
    assert decision.add == [EMAIL]


# --- separated pairs (undone merges) --------------------------------------------------------

def test_separated_pair_is_never_merged_again(b: Builder) -> None:
    b.profile("P1", PHONE)
    b.profile("P2", EMAIL)
    b.state.separated.add(frozenset(("P1", "P2")))
    decision = run(b.state, PHONE, EMAIL)
    assert decision.outcome == Outcome.ATTACHED
    assert decision.profile_id == "P2"
    assert decision.absorbed == []
    assert decision.add == [PHONE]  # shared from now on, not moved
    apply(b.state, decision, created_at=T0)
    assert run(b.state, PHONE, EMAIL).outcome == Outcome.ATTACHED
    assert run(b.state, PHONE).outcome == Outcome.AMBIGUOUS


def test_separated_pair_of_equal_strength_is_ambiguous(b: Builder) -> None:
    b.profile("P1", EMAIL)
    b.profile("P2", EMAIL_2)
    b.state.separated.add(frozenset(("P2", "P1")))
    decision = run(b.state, EMAIL, EMAIL_2)
    assert decision.outcome == Outcome.AMBIGUOUS
    assert decision.candidates == ["P1", "P2"]


def test_separation_only_concerns_its_pair(b: Builder) -> None:
    b.profile("P1", PHONE)
    b.profile("P2", EMAIL)
    b.state.separated.add(frozenset(("P1", "P9")))
    decision = run(b.state, PHONE, EMAIL)
    assert decision.outcome == Outcome.MERGED


# --- anchor (explicit customer id) ----------------------------------------------------------

def test_anchor_alone_attaches_to_it(b: Builder) -> None:
    b.profile("P1", EMAIL)
    decision = run(b.state, Identifier(Kind.CUSTOMER_ID, "P1"), anchor="P1")
    assert decision.outcome == Outcome.ATTACHED
    assert decision.profile_id == "P1"
    assert decision.add == []


def test_anchor_takes_new_identifiers(b: Builder) -> None:
    b.profile("P1", EMAIL)
    decision = run(b.state, PHONE, anchor="P1")
    assert decision.outcome == Outcome.ATTACHED
    assert decision.profile_id == "P1"
    assert decision.add == [PHONE]


def test_anchor_survives_a_merge_even_when_younger_and_weaker(b: Builder) -> None:
    b.profile("OLD", CRM_1)
    b.profile("ANCHOR", PHONE)
    decision = run(b.state, CRM_1, anchor="ANCHOR")
    assert decision.outcome == Outcome.MERGED
    assert decision.profile_id == "ANCHOR"
    assert decision.absorbed == ["OLD"]


def test_anchor_with_a_conflicting_match_attaches_to_the_anchor(b: Builder) -> None:
    b.profile("P1", CRM_1, PHONE)
    b.profile("P2", CRM_2)
    b.profile("P3", EMAIL)
    decision = run(b.state, EMAIL, anchor="P2")
    assert decision.outcome == Outcome.MERGED  # P3 has no crm id: compatible
    assert decision.profile_id == "P2" and decision.absorbed == ["P3"]
    conflicting = run(b.state, PHONE, anchor="P2")
    assert conflicting.outcome == Outcome.ATTACHED
    assert conflicting.profile_id == "P2"
    assert conflicting.absorbed == []
