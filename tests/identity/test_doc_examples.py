"""The examples of docs/identity.md, through the API: the documentation says what happens."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, ok
from tests.factories import event

FAMILY = "93 555 01 23"


def crm(phone: Any, email: str, **traits: Any) -> dict[str, Any]:
    return event("customer.updated", source="crm",
                 identifiers={"phone": phone, "email": email}, traits=traits)


def customer(result: dict[str, Any]) -> str:
    return str(result["results"][0]["customer_id"])


def suggestion_scores(api: Api) -> list[float]:
    return [s["score"] for s in ok(api.get("/v1/identity/suggestions"))["suggestions"]]


def test_montse_jordi_and_the_billing_record(api: Api) -> None:
    jordi = customer(api.send(crm(FAMILY, "jordi@example.cat", name="Jordi Pujol Riera",
                                  birthday="1961-03-02")))
    montse = api.send(crm(FAMILY, "montse@example.cat", name="Montserrat Riera"))
    assert customer(montse) != jordi
    assert suggestion_scores(api) == [-12.0]
    assert api.card(phone=FAMILY)["match"] == "ambiguous"
    helpdesk = api.send(event("ticket.opened", source="helpdesk", identifiers={"phone": FAMILY},
                              traits={"name": "J. Pujol"}))
    # The landline is shared now: the initial alone cannot single Jordi out.
    assert helpdesk["results"][0]["resolution"] == "ambiguous"
    billing = api.send(event("invoice.issued", source="billing",
                             identifiers={"phone": FAMILY, "account": "CT-1"},
                             traits={"name": "PUJOL RIERA, JORDI", "birthday": "1961-03-02"}))
    assert customer(billing) == jordi


def test_j_pujol_on_a_landline_only_jordi_holds(api: Api) -> None:
    jordi = customer(api.send(crm(FAMILY, "jordi@example.cat", name="Jordi Pujol Riera")))
    helpdesk = api.send(event("ticket.opened", source="helpdesk", identifiers={"phone": FAMILY},
                              traits={"name": "J. Pujol"}))
    assert customer(helpdesk) == jordi


def test_pepe_is_jose(api: Api) -> None:
    jose = customer(api.send(crm("600 100 200", "pepe@example.es", name="José García López")))
    shop = api.send(event("order.placed", source="shop", identifiers={"email": "pepe@example.es"},
                          traits={"name": "Pepe García"}))
    assert customer(shop) == jose


def test_the_wrights(api: Api) -> None:
    landline = "+44 151 343 9575"
    douglas = customer(api.send(crm(landline, "doug@example.co.uk", name="Douglas Wright")))
    susan = api.send(crm(landline, "susan@example.co.uk", name="Susan Wright"))
    assert customer(susan) != douglas
    assert suggestion_scores(api) == [-12.0]


def test_bob_changes_his_email(api: Api) -> None:
    robert = customer(api.send(crm("+44 7700 900123", "robert@old.example", name="Robert Smith")))
    bob = api.send(crm("+44 7700 900123", "bob@new.example", name="Bob Smith"))
    assert customer(bob) == robert
    assert suggestion_scores(api) == []


def test_ruth_writes_from_a_role_mailbox(api: Api) -> None:
    mary = customer(api.send(crm("+44 7700 900456", "info@pearce.co.uk", name="Mary Armstrong")))
    ruth = api.send(event("order.placed", source="shop",
                          identifiers={"email": "info@pearce.co.uk"},
                          traits={"name": "Ruth Morgan"}))
    assert ruth["results"][0]["resolution"] == "created"
    assert customer(ruth) != mary
    lookup = api.card(email="info@pearce.co.uk")
    assert lookup["match"] == "ambiguous" and len(lookup["candidates"]) == 2


def test_twins(api: Api) -> None:
    ana = customer(api.send(crm(FAMILY, "ana@example.es", name="Ana García López",
                                birthday="2001-06-01")))
    marta = api.send(crm(FAMILY, "marta@example.es", name="Marta García López",
                         birthday="2001-06-01"))
    assert customer(marta) != ana


def test_a_nameless_update_through_a_landline_with_a_new_email_waits_for_review(api: Api
                                                                                ) -> None:
    """Another e-mail from the same CRM alone does not decline a link through a mobile or an
    e-mail, but through a landline alone it does: a household shares it."""
    jordi = customer(api.send(crm(FAMILY, "jordi@example.cat", name="Jordi Pujol Riera")))
    update = api.send(event("customer.updated", source="crm",
                            identifiers={"phone": FAMILY, "email": "j.pujol@example.cat"},
                            traits={"tier": "gold"}))
    assert customer(update) != jordi
    assert suggestion_scores(api) == [-4.0]
    mobile = customer(api.send(crm("600 100 200", "ana@example.es", name="Ana Gil")))
    moved = api.send(event("customer.updated", source="crm",
                           identifiers={"phone": "600 100 200", "email": "ana.gil@example.es"},
                           traits={"tier": "gold"}))
    assert customer(moved) == mobile


def _role_mailbox_story(api: Api) -> tuple[str, dict[str, Any]]:
    antonio = customer(api.send(event("ticket.opened", source="helpdesk",
                                      identifiers={"email": "pedidos@reformas.es"},
                                      traits={"name": "Antonio Romero"})))
    # A colleague's CRM contact, with no name, lists the shared order mailbox too.
    alberto = api.send(event("customer.updated", source="crm",
                             identifiers={"email": ["amartinez@reformas.es",
                                                    "pedidos@reformas.es"]},
                             traits={"tier": "pro"}))
    return antonio, alberto


def test_a_role_mailbox_links_nobody_even_with_one_holder(api: Api) -> None:
    antonio, alberto = _role_mailbox_story(api)
    assert customer(alberto) != antonio
    assert api.card(email="pedidos@reformas.es")["match"] == "ambiguous"


def test_without_role_mailboxes_the_colleague_lands_on_antonio(database: Any,
                                                               clock: Any) -> None:
    from tests.conftest import custom_api

    with custom_api(database, clock, role_mailboxes=[]) as api:
        antonio, alberto = _role_mailbox_story(api)
        assert customer(alberto) == antonio  # what role mailboxes prevent
