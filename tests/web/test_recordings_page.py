"""The recordings pages without a browser: who may open them, unknown ids and odd queries
answered on the page (never a 500), paging, the analysis once it exists, and the timeline's
link for those who may review."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.context import AppContext
from circulo.speech import service
from circulo.speech.model import Segment, Transcript
from tests.conftest import Api, make_key, ok
from tests.web.test_pages import sign_in
from tests.web.test_reports_page import make_user


def silent_wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"\x00\x00" * 1600)
    return out.getvalue()


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx), follow_redirects=False) as test_client:
        yield test_client


def recorded(ctx: AppContext, client: TestClient, said: str | None) -> dict[str, str]:
    """A recording uploaded through the API, transcribed as ``said`` (what the worker stores
    after any transcriber)."""
    api = Api(client, make_key(ctx, ["admin"]))
    created: dict[str, str] = ok(api.post(
        "/v1/recordings", params={"language": "en", "phone": "+34600111222"},
        content=silent_wav(), headers={"Content-Type": "audio/wav"}), 202)
    if said is not None:
        with ctx.db.unit_of_work() as session:
            service.claim(session, ctx.clock.now(), timedelta(minutes=1))
            service.complete(session, created["id"], Transcript(
                "en", (Segment(0.0, 1.5, said), Segment(1.5, 3.0, "Thanks.")), 3.0, "test"),
                settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now())
    return created


def test_strangers_sign_in_and_agents_are_told_why_not(ctx: AppContext,
                                                       client: TestClient) -> None:
    created = recorded(ctx, client, None)
    for path in ("/recordings", f"/recordings/{created['id']}"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/sign-in")
    make_user(ctx, "ana", "agent")
    sign_in(client, username="ana")
    for path in ("/recordings", f"/recordings/{created['id']}"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Las grabaciones son para supervisores" in response.text
    assert 'href="/recordings"' not in client.get("/desk").text
    assert client.get(f"/v1/recordings/{created['id']}/audio").status_code == 403
    timeline = client.get(f"/desk/customers/{created['customer_id']}/timeline").text
    assert "Llamada grabada" in timeline and "/recordings/" not in timeline


def test_a_supervisor_searches_pages_and_opens(ctx: AppContext, client: TestClient) -> None:
    first = recorded(ctx, client, "I want to cancel my contract.")
    for _ in range(21):
        recorded(ctx, client, "Where is my parcel?")
    make_user(ctx, "sara", "supervisor")
    sign_in(client, username="sara")
    page = client.get("/recordings")
    assert page.status_code == 200 and "22 grabaciones" in page.text
    assert 'href="/recordings?page=2"' in page.text
    assert page.text.count('<tr>') == 1 + 20
    second = client.get("/recordings?page=2")
    assert second.text.count('<tr>') == 1 + 2
    found = client.get("/recordings", params={"q": "CANCEL my"})
    assert "1 grabación con «CANCEL my»" in found.text
    assert f'href="/recordings/{first["id"]}"' in found.text
    for odd in ("%", "_", "x" * 5000, "'; drop table recordings; --", "\u202e"):
        response = client.get("/recordings", params={"q": odd})
        assert response.status_code == 200 and "Ninguna grabación coincide." in response.text
    assert client.get("/recordings?page=abc").status_code == 200
    assert client.get("/recordings?page=999999").status_code == 200

    one = client.get(f"/recordings/{first['id']}")
    assert one.status_code == 200
    assert "I want to cancel my contract." in one.text and 'data-seek="1.5"' in one.text
    assert f'src="/v1/recordings/{first["id"]}/audio"' in one.text
    assert "El análisis aún no está disponible." in one.text
    missing = client.get("/recordings/nope")
    assert missing.status_code == 404 and "Esa grabación no existe." in missing.text
    timeline = client.get(f"/desk/customers/{first['customer_id']}/timeline").text
    assert timeline.count('href="/recordings/') == 30  # the 30 lines shown: all recorded


def test_the_analysis_shows_once_it_exists(ctx: AppContext, client: TestClient) -> None:
    created = recorded(ctx, client, "This is the third time, I will leave you.")
    detail = ok(Api(client, make_key(ctx, ["admin"])).get(f"/v1/recordings/{created['id']}"))
    event_id = next(e["id"] for e in ok(Api(client, make_key(ctx, ["admin"])).get(
        f"/v1/customers/{created['customer_id']}/timeline"))["events"]
        if e["type"] == "call.transcribed")
    assert detail["analysis"] is None
    # What the analysis worker ingests for the transcript (docs/text-analysis.md).
    Api(client, make_key(ctx, ["admin"])).send({
        "type": "text.analyzed", "source": "circulo-text", "id": f"analysis:{event_id}",
        "identifiers": {"customer_id": created["customer_id"]},
        "properties": {"source_event_id": event_id, "source_type": "call.transcribed",
                       "sentiment": "negative", "score": -0.7, "urgent": True,
                       "reasons": ["churn_threat", "repetition"], "intent": "cancellation"}})
    analysis = ok(Api(client, make_key(ctx, ["admin"])).get(
        f"/v1/recordings/{created['id']}"))["analysis"]
    assert analysis == {"sentiment": "negative", "score": -0.7, "urgent": True,
                        "reasons": ["churn_threat", "repetition"], "intent": "cancellation"}
    make_user(ctx, "sara", "supervisor")
    sign_in(client, username="sara")
    page = client.get(f"/recordings/{created['id']}").text
    assert "Negativo" in page and "Urgente: amenaza con irse, insiste" in page
    assert "Baja o cancelación" in page  # the configured reason's label, not its name


@pytest.mark.parametrize("page", ["²", "¹²", "1" + "0" * 5000, "٣"])
def test_a_page_number_python_cannot_read_is_the_first_page(ctx: AppContext, client: TestClient,
                                                            page: str) -> None:
    """``str.isdigit`` accepts superscripts ("²") that ``int`` refuses, and ``int`` refuses
    more than 4,300 digits: both were a 500."""
    make_user(ctx, "sara", "supervisor")
    sign_in(client, username="sara")
    response = client.get("/recordings", params={"page": page})
    assert response.status_code == 200 and "Ninguna grabación" in response.text
