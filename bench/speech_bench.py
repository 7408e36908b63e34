"""Speech: English word error rate and real-time factor of the offline transcriber (tiny.en
through faster-whisper, int8 on the CPU) on contact-center sentences spoken by espeak-ng
(en-us), with greedy decoding (beam 1) as the baseline in the same run; and how long
espeak-ng takes to speak Spanish and English IVR prompts.

    python bench/speech_bench.py [--runs 3] [--threads 1]

WER is jiwer's over the whole set after the standard normalisation (lower case, punctuation
removed, spaces collapsed); the real-time factor is transcription time / audio duration
(below 1: faster than the audio plays). Each figure is the median over ``--runs``.
"""

from __future__ import annotations

import argparse
import io
import platform
import re
import statistics
import sys
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import jiwer

from circulo.speech.espeak import EspeakSynthesizer
from circulo.speech.whisper import WhisperTranscriber

# What customers and agents say on the phone: accounts, bills, faults, cancellations, names
# of things, questions and complaints; no digits (how to write a number is not the question).
SENTENCES = [
    "Hello, I am calling because my internet connection keeps dropping every evening.",
    "I would like to cancel my subscription at the end of this month.",
    "Can you tell me why my last bill is much higher than usual?",
    "I was charged twice for the same order and I want a refund.",
    "The technician was supposed to come yesterday but nobody showed up.",
    "My package has not arrived and the tracking page has not changed for a week.",
    "I need to update the address on my account because I moved house.",
    "Could you please send me a copy of the invoice by email?",
    "I forgot my password and the reset link does not work.",
    "This is the third time I am calling about the same problem.",
    "If this is not fixed today I will switch to another company.",
    "I think someone used my card without permission, please block it.",
    "The new phone you sent me does not turn on at all.",
    "I would like to speak with a supervisor about my complaint.",
    "Thank you, that solves my problem, have a nice day.",
    "Is there a cheaper plan for customers who have been with you for years?",
    "The mobile app crashes every time I try to pay my bill.",
    "Please call me back tomorrow morning when I am at home.",
    "I want to return these shoes because they are the wrong size.",
    "My contract says there is no fee for leaving, but you charged me one.",
    "The television channels stopped working after the last update.",
    "Can I change the delivery date to next Friday instead?",
    "I am very unhappy with the service and I want to file a formal complaint.",
    "Your agent promised me a discount, but it is not on my bill.",
]
PROMPTS = {
    "es": ["Gracias por llamar. Esta llamada puede ser grabada para mejorar nuestro servicio.",
           "Para facturación, pulse uno. Para averías, pulse dos.",
           "Todos nuestros agentes están ocupados. Le atenderemos lo antes posible.",
           "Si lo prefiere, le llamamos nosotros. Pulse nueve y cuelgue."],
    "en": ["Thank you for calling. This call may be recorded to improve our service.",
           "For billing, press one. For technical problems, press two.",
           "All our agents are busy. We will be with you as soon as possible.",
           "If you prefer, we can call you back. Press nine and hang up."],
}


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']|(?<!\w)'|'(?!\w)", " ", text.lower()).split())


def seconds_of(audio: bytes) -> float:
    with wave.open(io.BytesIO(audio)) as wav:
        return wav.getnframes() / wav.getframerate()


def measure(name: str, audios: list[bytes], runs: int, threads: int, beam: int
            ) -> dict[str, float]:
    transcriber = WhisperTranscriber(threads=threads, beam_size=beam)
    transcriber.transcribe(audios[0], language="en")  # load the model outside the timing
    audio_seconds = sum(seconds_of(a) for a in audios)
    wers, rtfs, worst = [], [], ("", 0.0)
    for _ in range(runs):
        heard = []
        started = time.perf_counter()
        for audio in audios:
            heard.append(transcriber.transcribe(audio, language="en").text)
        elapsed = time.perf_counter() - started
        references = [normalise(s) for s in SENTENCES]
        hypotheses = [normalise(h) for h in heard]
        wers.append(jiwer.wer(references, hypotheses))
        rtfs.append(elapsed / audio_seconds)
        for ref, hyp in zip(references, hypotheses, strict=True):
            sentence_wer = jiwer.wer(ref, hyp)
            if sentence_wer > worst[1]:
                worst = (f"{ref!r} -> {hyp!r}", sentence_wer)
    wer, rtf = statistics.median(wers), statistics.median(rtfs)
    print(f"{name:<34} WER {wer:6.3f}   RTF {rtf:5.3f}   "
          f"({len(audios)} sentences, {audio_seconds:.1f} s of audio)")
    if worst[1]:
        print(f"{'':<34} worst sentence ({worst[1]:.2f}): {worst[0]}")
    return {"wer": wer, "rtf": rtf, "audio_seconds": audio_seconds}


def synthesis_timing(runs: int) -> None:
    espeak = EspeakSynthesizer()
    for language, prompts in PROMPTS.items():
        times, audio = [], 0.0
        for _ in range(runs):
            started = time.perf_counter()
            made = [espeak.synthesize(p, language=language) for p in prompts]
            times.append((time.perf_counter() - started) / len(prompts))
            audio = sum(seconds_of(m) for m in made) / len(prompts)
        per = statistics.median(times)
        print(f"espeak-ng {language}: {per * 1000:6.1f} ms a prompt for {audio:4.1f} s of "
              f"speech (x{audio / per:,.0f} real time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"runs {args.runs}, CPU threads {args.threads}")
    espeak = EspeakSynthesizer()
    spoken = [espeak.synthesize(s, language="en") for s in SENTENCES]
    measure("tiny.en, espeak-ng en-us, beam 5", spoken, args.runs, args.threads, 5)
    measure("tiny.en, espeak-ng en-us, beam 1", spoken, args.runs, args.threads, 1)
    synthesis_timing(args.runs)


if __name__ == "__main__":
    main()
