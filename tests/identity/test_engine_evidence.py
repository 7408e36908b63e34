"""The evidence rule of the resolver, pure: a link through an e-mail, phone or account is
declined when what the two sides say disagrees strongly."""

from __future__ import annotations

from typing import Any

import pytest

from circulo.identity.engine import Decision, Outcome, apply
from circulo.identity.evidence import Facts, facts_from_traits
from circulo.identity.normalize import Identifier, Kind
from tests.identity.test_engine import CRM_1, EMAIL, EMAIL_2, PHONE, T0, Builder

LANDLINE = Identifier(Kind.PHONE, "+34935550123")
JORDI_EMAIL = Identifier(Kind.EMAIL, "jordi@example.cat")
MONTSE_EMAIL = Identifier(Kind.EMAIL, "montse@example.cat")
DECLINE_AT = -4.0


def says(source: str = "crm", *idents: Identifier, **traits: Any) -> Facts:
    facts = facts_from_traits(traits, source)
    for ident in idents:
        if ident.kind in (Kind.EMAIL, Kind.PHONE):
            facts.add_contact(ident.kind.value, ident.value, source)
    return facts


def person(b: Builder, pid: str, *idents: Identifier, source: str = "crm", **traits: Any
           ) -> str:
    b.profile(pid, *idents)
    b.state.profiles[pid].evidence.absorb(says(source, *idents, **traits))
    return pid


def weigh(b: Builder, *idents: Identifier, source: str = "crm", anchor: str | None = None,
          decline_at: float | None = DECLINE_AT, new_id: str = "NEW", **traits: Any
          ) -> Decision:
    from circulo.identity.engine import resolve

    facts = says(source, *idents, **traits)
    decision = resolve(list(idents), b.state, limit=2, hard_cap=50,
                       new_profile_id=lambda: new_id, anchor=anchor, facts=facts,
                       decline_at=decline_at)
    apply(b.state, decision, created_at=T0, facts=facts)
    return decision


@pytest.fixture
def b() -> Builder:
    return Builder()


def test_montse_is_not_attached_to_jordi(b: Builder) -> None:
    person(b, "JORDI", LANDLINE, JORDI_EMAIL, name="Jordi Pujol Riera")
    decision = weigh(b, LANDLINE, MONTSE_EMAIL, name="Montserrat Riera", new_id="MONTSE")
    assert decision.outcome == Outcome.CREATED and decision.profile_id == "MONTSE"
    assert LANDLINE in decision.add  # both hold it: a lookup shows both
    (declined,) = decision.declined
    assert declined.profile_id == "JORDI" and declined.via == [LANDLINE]
    assert declined.evidence.score <= DECLINE_AT
    assert decision.newly_shared == [LANDLINE]
    # From now on the landline is shared: a call from it is ambiguous.
    call = weigh(b, LANDLINE)
    assert call.outcome == Outcome.AMBIGUOUS
    assert call.candidates == ["JORDI", "MONTSE"]


def test_without_evidence_the_rules_are_todays(b: Builder) -> None:
    person(b, "JORDI", LANDLINE, JORDI_EMAIL, name="Jordi Pujol Riera")
    decision = weigh(b, LANDLINE, MONTSE_EMAIL, name="Montserrat Riera", decline_at=None)
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "JORDI"


def test_agreement_attaches(b: Builder) -> None:
    person(b, "JORDI", LANDLINE, JORDI_EMAIL, name="Jordi Pujol Riera")
    decision = weigh(b, LANDLINE, source="helpdesk", name="J. Pujol")
    assert decision.outcome == Outcome.ATTACHED and decision.declined == []


def test_silence_attaches(b: Builder) -> None:
    person(b, "JORDI", LANDLINE, JORDI_EMAIL, name="Jordi Pujol Riera")
    assert weigh(b, LANDLINE, source="pbx").outcome == Outcome.ATTACHED


def test_an_external_id_is_never_overruled(b: Builder) -> None:
    person(b, "P1", CRM_1, EMAIL, name="Jordi Pujol")
    decision = weigh(b, CRM_1, name="Montserrat Riera")
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "P1"


def test_an_anchor_is_never_overruled(b: Builder) -> None:
    person(b, "P1", EMAIL, name="Jordi Pujol")
    decision = weigh(b, Identifier(Kind.CUSTOMER_ID, "P1"), anchor="P1", name="Montse Riera")
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "P1"


def test_of_two_matches_the_one_that_disagrees_is_declined(b: Builder) -> None:
    # Both were shoppers first; Jordi's CRM contact gave the landline to his profile.
    person(b, "JORDI", JORDI_EMAIL, LANDLINE, name="Jordi Pujol Riera")
    person(b, "MONTSE", MONTSE_EMAIL, source="shop")
    decision = weigh(b, LANDLINE, MONTSE_EMAIL, name="Montserrat Riera")
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "MONTSE"
    assert [d.profile_id for d in decision.declined] == ["JORDI"]
    assert decision.add == [LANDLINE]


def test_profiles_that_disagree_are_not_merged_by_an_event_that_says_nothing(b: Builder
                                                                             ) -> None:
    person(b, "ANA", EMAIL, name="Ana García", source="shop")
    person(b, "LUIS", PHONE, name="Luis Martín", source="crm")
    decision = weigh(b, EMAIL, PHONE, source="web")
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "ANA"
    assert [d.profile_id for d in decision.declined] == ["LUIS"]
    assert decision.newly_shared == [PHONE]


def test_equally_strong_links_to_two_people_are_ambiguous(b: Builder) -> None:
    person(b, "ANA", EMAIL, name="Ana García", source="shop")
    person(b, "LUIS", EMAIL_2, name="Luis Martín", source="crm")
    decision = weigh(b, EMAIL, EMAIL_2, source="web")
    assert decision.outcome == Outcome.AMBIGUOUS
    assert decision.candidates == ["ANA", "LUIS"]


def test_profiles_that_agree_merge(b: Builder) -> None:
    person(b, "P1", PHONE, name="Ana García López", source="pbx")
    person(b, "P2", EMAIL, name="Ana García", source="shop")
    decision = weigh(b, EMAIL, PHONE, source="crm", name="Ana García López")
    assert decision.outcome == Outcome.MERGED
    assert decision.profile_id == "P2" and decision.absorbed == ["P1"]


def test_a_flag_binds_while_two_hold_the_identifier(b: Builder) -> None:
    person(b, "JORDI", LANDLINE, name="Jordi Pujol")
    b.state.flagged.add(LANDLINE.key)
    # Its other holder was erased (or the two were merged after review): it links again.
    assert weigh(b, LANDLINE).outcome == Outcome.ATTACHED
    person(b, "MONTSE", LANDLINE, name="Montse Riera")
    assert weigh(b, LANDLINE).outcome == Outcome.AMBIGUOUS


def test_a_role_mailbox_never_links_even_with_one_holder(b: Builder) -> None:
    info = Identifier(Kind.EMAIL, "info@acme.es")
    person(b, "ANTONIO", info, name="Antonio Romero")
    b.state.roles.add(info.key)
    assert weigh(b, info).outcome == Outcome.AMBIGUOUS
    created = weigh(b, info, MONTSE_EMAIL, new_id="ALBERTO")
    assert created.outcome == Outcome.CREATED and created.add == [info, MONTSE_EMAIL]


def test_two_candidates_who_both_fit_are_not_picked(b: Builder) -> None:
    switchboard = Identifier(Kind.PHONE, "+34915550000")
    person(b, "ANA1", switchboard, Identifier(Kind.EMAIL, "ana.garcia@acme.es"),
           name="Ana García")
    person(b, "ANA2", switchboard, Identifier(Kind.EMAIL, "agarcia@acme.es"), name="Ana García")
    person(b, "PEDRO", switchboard, name="Pedro Ruiz")
    decision = weigh(b, switchboard, name="Ana García")
    assert decision.outcome == Outcome.AMBIGUOUS
    assert decision.absorbed == []


def test_one_candidate_who_fits_is_picked(b: Builder) -> None:
    switchboard = Identifier(Kind.PHONE, "+34915550000")
    person(b, "ANA", switchboard, name="Ana García López", birthday="1980-01-01")
    person(b, "PEDRO", switchboard, name="Pedro Ruiz")
    person(b, "LUIS", switchboard, name="Luis Gil")
    decision = weigh(b, switchboard, name="Ana García López")
    assert decision.outcome == Outcome.ATTACHED and decision.profile_id == "ANA"


def test_apply_keeps_what_the_batch_said(b: Builder) -> None:
    weigh(b, JORDI_EMAIL, new_id="JORDI", name="Jordi Pujol Riera", birthday="1970-05-01")
    facts = b.state.profiles["JORDI"].evidence
    assert facts.names[0].display == "Jordi Pujol Riera"
    assert facts.emails == {"crm": {"jordi@example.cat"}}
    # A second event in the same batch is weighed against the first.
    decision = weigh(b, JORDI_EMAIL, birthday="1999-12-31", new_id="OTHER")
    assert decision.outcome == Outcome.CREATED
