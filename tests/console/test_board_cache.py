"""The console keeps one computed board per process. A change (an acknowledgement) drops it;
a board that was being computed while the change committed must not be stored after the drop
and shown as current: that brought an acknowledged alert back on the page."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from circulo.context import AppContext
from circulo.web import console as page


def test_a_board_computed_across_a_change_is_not_kept(ctx: AppContext,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    real = page.compute

    def slow(context: AppContext) -> Any:
        board = real(context)  # read before the change commits
        entered.set()
        release.wait(5)
        return board

    monkeypatch.setattr(page, "compute", slow)
    reader = threading.Thread(target=page.latest, args=(ctx,))
    reader.start()
    assert entered.wait(5)
    # the change commits now; the route then drops the board (another thread, as a request)
    dropper = threading.Thread(target=page.forget, args=(ctx,))
    dropper.start()
    dropper.join(0.3)  # it waits for the board being computed...
    release.set()
    reader.join(5)
    dropper.join(5)
    # ...and drops it: the next read computes a board that sees the change
    assert id(ctx) not in page._latest
