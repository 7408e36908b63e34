"""IVR prompts: `circulo prompts synthesize FILE --out DIR` and `POST /v1/speech/synthesize`."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circulo.cli import app as cli
from tests.conftest import Api, assert_problem, make_key
from tests.speech.audio import needs_espeak
from tests.speech.conftest import Speech

pytestmark = needs_espeak
EXAMPLE = Path(__file__).parents[2] / "examples" / "speech" / "prompts.yaml"


def frames(audio: bytes) -> int:
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getframerate() == 22050
        return wav.getnframes()


def test_the_example_prompts_become_wav_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["prompts", "synthesize", str(EXAMPLE), "--out",
                                      str(tmp_path / "out")], env={"LANG": "en_US.UTF-8"})
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(f"{p}.{lang}.wav" for p in
                             ("welcome", "menu", "wait", "callback", "survey")
                             for lang in ("es", "en"))
    assert all(frames((tmp_path / "out" / name).read_bytes()) > 22050 for name in written)
    assert "10 WAV files" in result.output


@pytest.mark.parametrize(("document", "reason"), [
    ("prompts:\n  hi:\n    fr: Bonjour\n", "hi.fr"),
    ("prompts:\n  hi:\n    es: ''\n", "empty"),
    ("prompts:\n  ../etc/passwd:\n    es: Hola\n", "ids are lower-case"),
    ("prompts:\n  hi:\n    en: \"ring\\a\"\n", "control characters"),
    ("prompts:\n  hi: Hello\n", "per language"),
    ("nothing: here\n", "expected a mapping with 'prompts'"),
])
def test_a_bad_prompts_file_writes_nothing(tmp_path: Path, document: str, reason: str) -> None:
    source = tmp_path / "prompts.yaml"
    source.write_text("prompts:\n  ok:\n    es: Hola\n" + document.removeprefix("prompts:\n")
                      if document.startswith("prompts:") else document)
    result = CliRunner().invoke(cli, ["prompts", "synthesize", str(source), "--out",
                                      str(tmp_path / "out")], env={"LANG": "en_US.UTF-8"})
    assert result.exit_code == 2
    assert reason in result.output.replace("\n", "")
    assert not (tmp_path / "out").exists()


def test_the_api_speaks_a_prompt(speech: Speech) -> None:
    api: Api = speech.api
    response = api.post("/v1/speech/synthesize", json={"text": "Pulse uno.", "language": "es"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert frames(response.content) > 0


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"text": "", "language": "es"}, 422, "text"),
    ({"text": "   ", "language": "en"}, 422, "text"),
    ({"text": "x" * 2001, "language": "en"}, 422, "text"),
    ({"text": "bell\u0007", "language": "en"}, 422, "text"),
    ({"text": "Bonjour", "language": "fr"}, 422, "language"),
    ({"text": "Hello", "language": "en", "voice": "x"}, 422, "voice"),
])
def test_bad_prompts_are_refused_naming_the_field(speech: Speech, body: dict[str, str],
                                                  status: int, field: str) -> None:
    problem = assert_problem(speech.api.post("/v1/speech/synthesize", json=body), status,
                             "validation_failed")
    assert field in {e["field"] for e in problem["errors"]}


def test_a_100_kb_text_is_refused_before_it_is_read(speech: Speech) -> None:
    assert_problem(speech.api.post("/v1/speech/synthesize", json={
        "text": "x" * 100_000, "language": "en"}), 413, "payload_too_large")


def test_synthesis_needs_a_key(speech: Speech) -> None:
    assert_problem(speech.api.client.post("/v1/speech/synthesize", json={
        "text": "Hello", "language": "en"}), 401, "unauthorized")
    metrics_only = {"Authorization": "Bearer " + make_key(speech.ctx, ["metrics"])}
    assert_problem(speech.api.client.post("/v1/speech/synthesize", json={
        "text": "Hello", "language": "en"}, headers=metrics_only), 403, "forbidden")
