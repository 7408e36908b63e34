"""Evidence with the names real systems send: odd, empty, foreign or changed. Each gives a
clear result and loses nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, ok
from tests.factories import event

LANDLINE = "93 555 01 23"


def jordi(api: Api) -> str:
    result = api.send(event("customer.updated", source="crm",
                            identifiers={"phone": LANDLINE, "email": "jordi@example.cat"},
                            traits={"name": "Jordi Pujol Riera"}))
    return str(result["results"][0]["customer_id"])


@pytest.mark.parametrize("name", [
    "", "   ", "J. P.", "JORDI PUJOL RIERA", "😀😀", "Jordi 😀", "Йорди Пужоль",
    "ジョルディ", "x" * 200, "unknown", "-", 12345, ["Jordi"], {"first": "Jordi"}, None,
])
def test_odd_names_say_nothing_or_agree(api: Api, name: Any) -> None:
    """Nothing comparable is silence: the helpdesk's event joins Jordi as before."""
    customer = jordi(api)
    result = api.send(event("ticket.opened", source="helpdesk",
                            identifiers={"phone": LANDLINE}, traits={"name": name}))
    assert result["accepted"] == 1
    assert result["results"][0]["customer_id"] == customer
    assert ok(api.get("/v1/identity/suggestions"))["suggestions"] == []


def test_a_name_changed_by_the_crm_under_its_id(api: Api) -> None:
    first = api.send(event("customer.updated", source="crm",
                           identifiers={"email": "ana@example.es",
                                        "external_ids": {"crm": "C-7"}},
                           traits={"first_name": "Ana", "last_name": "García"}))
    renamed = api.send(event("customer.updated", source="crm",
                             identifiers={"email": "ana.m@example.es",
                                          "external_ids": {"crm": "C-7"}},
                             traits={"first_name": "Anna", "last_name": "Martí Soler"}))
    customer = first["results"][0]["customer_id"]
    assert renamed["results"][0]["customer_id"] == customer
    assert api.card(email="ana.m@example.es")["card"]["name"] == "Anna Martí Soler"
    assert ok(api.get("/v1/identity/suggestions"))["suggestions"] == []


def test_a_second_surname_added_later_by_email(api: Api) -> None:
    first = api.send(event("order.placed", source="shop", identifiers={"email": "ana@ex.es"},
                           traits={"name": "Ana García"}))
    later = api.send(event("customer.updated", source="crm",
                           identifiers={"email": "ana@ex.es", "phone": "600 111 222"},
                           traits={"first_name": "Ana", "last_name": "García Martín"}))
    assert later["results"][0]["customer_id"] == first["results"][0]["customer_id"]
    traits = ok(api.get(f"/v1/customers/{first['results'][0]['customer_id']}"))["traits"]
    assert traits["last_name"] == "García Martín"


def test_another_person_on_the_landline_in_another_script(api: Api) -> None:
    # Different scripts cannot be compared: silence, never a guess either way.
    customer = jordi(api)
    result = api.send(event("customer.updated", source="crm",
                            identifiers={"phone": LANDLINE}, traits={"name": "李小龙"}))
    assert result["results"][0]["customer_id"] == customer
