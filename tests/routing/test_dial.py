"""Click-to-dial's input rules (the service itself is exercised through the widget's API in
tests/web/test_widget_api.py): numbers as pages show them, and what is no number."""

from __future__ import annotations

import pytest

from circulo.config import Settings
from circulo.errors import ValidationFailed
from circulo.routing.dial import normalized_phone


@pytest.mark.parametrize(("shown", "dialed"), [
    ("+34 600 123 456", "+34600123456"),
    ("0034 600-12-34-56", "+34600123456"),
    ("(91) 234.56.78", "912345678"),
    ("912 345 678", "912345678"),
    ("+1 (415) 555-0100", "+14155550100"),
])
def test_numbers_as_pages_show_them(shown: str, dialed: str) -> None:
    assert normalized_phone(shown) == dialed


@pytest.mark.parametrize("text", ["", "call me", "12345", "+34 600 123 456 789 012 3",
                                  "600123456x", "++34600123456", "javascript:alert(1)"])
def test_what_is_no_number_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        normalized_phone(text)
    assert refused.value.errors and refused.value.errors[0]["field"] == "phone"


def test_widget_origins_are_origins() -> None:
    settings = Settings(widget_origins="https://CRM.example.com, http://localhost:8100")
    assert settings.widget_origins == ["https://crm.example.com", "http://localhost:8100"]
    for wrong in ("crm.example.com", "https://crm.example.com/page", "ftp://crm.example.com"):
        with pytest.raises(ValueError, match="not an origin"):
            Settings(widget_origins=wrong)
