"""The contact-reasons catalogue (issue 17): the shipped file, and every refusal naming the
file, the line and the reason. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from circulo.text import intents
from circulo.text.prep import fold

ROOT = Path(__file__).parents[2]
NAMES = {"order_status", "return", "invoice", "unrecognised_charge", "address_change",
         "assembly", "financing", "warranty", "card_limit", "cancellation"}


def test_the_shipped_catalogue_is_the_example_file() -> None:
    example = ROOT / "examples" / "text" / "intents.yaml"
    assert intents.DEFAULT_FILE.read_bytes() == example.read_bytes()
    catalogue = intents.load()
    assert {i.name for i in catalogue.intents} == NAMES
    assert all(i.queue and i.skill for i in catalogue.intents)


@pytest.mark.parametrize(("text", "name"), [
    ("quisiera aumentar el límite de mi tarjeta de crédito", "card_limit"),
    ("quisiera aumentar el limite de mi tarjeta de credito", "card_limit"),  # no accents
    ("I'd like to raise my credit card limit", "card_limit"),
    ("necesito la factura de mi último pedido", "invoice"),
])
def test_reasons_are_recognised(text: str, name: str) -> None:
    assert intents.load().classify(fold(text)).name == name


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intents.yaml"
    path.write_text(text, "utf-8")
    return path


GOOD = """intents:
  - name: card_limit
    label: {es: Límite, en: Limit}
    examples: {es: [subir el límite de la tarjeta], en: [raise my card limit]}
    keywords: {es: [límite], en: [limit]}
    queue: atencion
    skill: billing
"""


def test_a_small_file_loads_with_its_threshold(tmp_path: Path) -> None:
    catalogue = intents.load(write(tmp_path, GOOD + "threshold: 0.3\n"))
    assert catalogue.threshold == 0.3
    result = catalogue.classify(fold("quiero subir el límite"))
    assert (result.name, result.queue, result.skill) == ("card_limit", "atencion", "billing")
    assert catalogue.classify(fold("hola buenas")).name is None


@pytest.mark.parametrize(("text", "expected"), [
    (GOOD.replace("    queue: atencion", "    queue: atencion\n    colour: red"),
     "line 7: intents[0].colour: unknown field"),
    (GOOD.replace("name: card_limit", "name: Card Limit"),
     "line 2: intents[0].name: must be lower case"),
    (GOOD + GOOD.replace("intents:\n", ""), "intents[1].name: the name 'card_limit' appears "
                                            "twice"),
    (GOOD.replace("examples: {es: [subir el límite de la tarjeta], en: [raise my card limit]}",
                  "examples: {es: [], en: []}"), "needs at least one example phrase"),
    (GOOD.replace("    label: {es: Límite, en: Limit}\n", ""), "needs 'label'"),
    ("intents: []\n", "intents"),
    ("intents: &a [*a]\n", "anchors (&) and aliases (*) are not allowed"),
    ("- just a list\n", "expected a mapping with 'intents'"),
    (GOOD + "threshold: 2\n", "threshold: must be between 0 and 1"),
    (GOOD.replace("[limit]", "['']"), "must be 1 to 500 characters"),
])
def test_a_bad_file_is_refused_with_the_place_and_reason(tmp_path: Path, text: str,
                                                         expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(intents.IntentsError) as caught:
        intents.load(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value), caught.value


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(intents.IntentsError, match="cannot read the intents"):
        intents.load(tmp_path / "nowhere.yaml")
