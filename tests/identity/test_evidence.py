"""Evidence for and against one person: weights per field, pure."""

from __future__ import annotations

from typing import Any

import pytest

from circulo.identity.evidence import Facts, compare, facts_from_traits, parse_date

DECLINE_AT = -4.0


def facts(source: str = "crm", emails: tuple[str, ...] = (), phones: tuple[str, ...] = (),
          **traits: Any) -> Facts:
    found = facts_from_traits(traits, source)
    for email in emails:
        found.add_contact("email", email, source)
    for phone in phones:
        found.add_contact("phone", phone, source)
    return found


def fields(left: Facts, right: Facts) -> dict[str, str]:
    return {f.field: f.level for f in compare(left, right).fields}


def test_the_family_disagrees_strongly() -> None:
    jordi = facts(name="Jordi Pujol Riera", emails=("jordi@example.cat",),
                  phones=("+34935550123",))
    montse = facts(name="Montserrat Riera", emails=("montse@example.cat",),
                   phones=("+34935550123",))
    evidence = compare(montse, jordi)
    assert evidence.declines(DECLINE_AT)
    assert fields(montse, jordi) == {"name": "given_differs", "email": "differs"}
    # The landline is not a mobile: sharing it says nothing.
    assert "mobile" not in fields(montse, jordi)


def test_a_new_email_from_the_same_source_alone_does_not_decline() -> None:
    before = facts(name="Ana García", emails=("ana@old.es",))
    after = facts(name="Ana García", emails=("ana@new.es",))
    assert not compare(after, before).declines(DECLINE_AT)
    assert not compare(facts(emails=("ana@new.es",)), before).declines(DECLINE_AT)


def test_another_email_from_another_source_says_nothing() -> None:
    assert compare(facts("shop", emails=("a@x.es",)), facts("crm", emails=("b@x.es",))
                   ).fields == ()


def test_a_second_mobile_from_the_same_source() -> None:
    left = facts(phones=("+34600111222",))
    right = facts(phones=("+34600333444", "+34935550123"))
    assert fields(left, right) == {"mobile": "differs"}
    # Holding one of the same mobiles is no disagreement.
    assert fields(facts(phones=("+34600333444",)), right) == {}


def test_silence_is_not_evidence() -> None:
    evidence = compare(Facts(), facts(name="Jordi Pujol", birthday="1970-01-01"))
    assert evidence.score == 0 and evidence.fields == ()


@pytest.mark.parametrize(("a", "b", "level"), [
    ("1980-03-15", "15/03/1980", "agree"),
    ("19800315", "1980-03-15T00:00:00", "agree"),
    ("1980-03-15", "1980-03-16", "near"),
    ("1980-03-05", "1980-05-03", "near"),
    ("1980-03-15", "1975-11-02", "differs"),
])
def test_dates_of_birth(a: str, b: str, level: str) -> None:
    assert fields(facts(birthday=a), facts(birthday=b)) == {"birthday": level}


@pytest.mark.parametrize("raw", ["yesterday", "31/02/1980", "1980-13-45", "", "0000-00-00"])
def test_unreadable_dates_are_silent(raw: str) -> None:
    assert parse_date(raw) is None or raw == ""
    assert fields(facts(birthday=raw), facts(birthday="1980-03-15")) == {}


def test_twins_on_the_family_phone_are_two_people() -> None:
    # Same date of birth and surnames, different given names: still two people.
    ana = facts(name="Ana García López", birthday="2001-06-01")
    marta = facts(name="Marta García López", birthday="2001-06-01")
    assert compare(ana, marta).declines(DECLINE_AT)


def test_national_ids_decide() -> None:
    same = compare(facts(national_id="12345678Z", name="J. Pujol"),
                   facts(national_id="12.345.678-z", name="Jordi Pujol"))
    assert same.score >= 8
    two = compare(facts(national_id="12345678Z"), facts(national_id="X1234567L"))
    assert two.declines(DECLINE_AT)
    # An invalid number is likelier a typo than another person.
    assert fields(facts(national_id="12345678A"), facts(national_id="12345678Z")) == {}


def test_postal_code_is_weak_either_way() -> None:
    assert compare(facts(postal_code="08001"), facts(postal_code="08002")).score == -1
    assert compare(facts(postal_code="08001"), facts(postal_code=" 08001")).score == 1


def test_values_of_any_type_and_size_are_bounded() -> None:
    weird = facts(name=["not", "a", "string"], birthday=19800315, postal_code={"x": 1},
                  first_name="Jordi" * 10_000)
    assert len(weird.names[0].display) <= 200
    assert weird.postal_code is None
    compare(weird, facts(name="Jordi Pujol", birthday="1980-03-15"))


def test_each_field_says_where_its_values_came_from() -> None:
    left = facts_from_traits({"name": "Montserrat Riera"}, "crm")
    right = facts_from_traits({"first_name": "Jordi", "last_name": "Pujol Riera"},
                              {"first_name": "shop", "last_name": "shop"})
    (name,) = compare(left, right).fields
    assert (name.left, name.left_source, name.right, name.right_source) == (
        "Montserrat Riera", "crm", "Jordi Pujol Riera", "shop")


def test_social_security_slips_are_not_another_person() -> None:
    assert fields(facts(social_security="6395834"), facts(social_security="6395843")) == {
        "social_security": "near"}
    assert fields(facts(social_security="6395834"), facts(social_security="1234567")) == {
        "social_security": "differs"}
