"""S17 on the desk in Chromium: after `circulo churn train` learnt from the company's
cancellations, an agent opens an at-risk customer and reads the risk and its main reasons,
in Spanish; a colleague who works in English reads them in English. Axe finds nothing
serious, the console no error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from circulo.auth import users
from circulo.churn import service as churn
from circulo.churn.models import ChurnScore
from circulo.clock import SystemClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.wiring import build_context
from tests.churn.company import company, load
from tests.web.browser import (
    PASSWORD,
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_an_agent_sees_the_churn_risk_and_its_reasons(ctx: AppContext, browser: Any,
                                                      tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with own_database(ctx, tmp_path) as db:
        company_ctx = build_context(Settings(database_url=db.url), SystemClock(), db=db)
        load(company_ctx, company(now, 300, leave_share=0.25))
        churn.train(db, company_ctx.settings, company_ctx.policies, now, actor="test")
        churn.score_all(db, company_ctx.settings, company_ctx.policies, now)
        with db.unit_of_work() as session:
            top = session.scalars(select(ChurnScore).order_by(ChurnScore.risk.desc())).first()
            assert top is not None and top.risk >= 0.6
            customer_id, percent = top.customer_id, round(top.risk * 100)
            for username, name, lang in (("ana", "Ana Pérez", "es"), ("sam", "Sam Hill", "en")):
                users.create_user(session, users.UserSpec(
                    username=username, name=name, role="agent", agent_id=username,
                    language=lang, card_role="support", time_zone="Europe/Madrid"),
                    PASSWORD, now)
        with live_server(db.url) as base:
            with page_of(browser) as (page, errors):
                sign_in(page, base, "ana")
                page.goto(f"{base}/desk/customers/{customer_id}")
                section = page.locator("#cust-churn")
                assert section.get_by_role("heading", level=3).inner_text() == "Riesgo de baja"
                assert page.locator("#cust-churn-percent").inner_text() == f"{percent} %"
                reasons = section.locator(".churn-factors li").all_inner_texts()
                assert 1 <= len(reasons) <= 3
                assert any("contactos insatisfechos en" in r for r in reasons), reasons
                assert "Modelo v1" in section.inner_text()
                badges = page.get_by_role("list", name="Distintivos").inner_text()
                assert "En riesgo" in badges
                assert serious_violations(page) == []
                screenshot(page, "churn-card.png", tmp_path)
                assert errors == []
            with page_of(browser, locale="en-GB") as (page, errors):
                sign_in(page, base, "sam", lang="en")
                page.goto(f"{base}/desk/customers/{customer_id}")
                section = page.locator("#cust-churn")
                assert section.get_by_role("heading", level=3).inner_text() == "Churn risk"
                reasons = section.locator(".churn-factors li").all_inner_texts()
                assert any("unsatisfied contacts in" in r for r in reasons), reasons
                assert "Model v1" in section.inner_text()
                assert serious_violations(page) == []
                assert errors == []
