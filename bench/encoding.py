"""Segment counting throughput: messages measured per second on one core.

Four corpora of generated texts (plain ASCII, Turkish, mixed with emoji, all of one segment in
their natural encoding, and a corpus of two to six segments), each counted under every sms_lang.

    .venv/bin/python bench/encoding.py [--messages 20000] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from ileti.domain.encoding import SmsLang, measure

ENGLISH_TEXT = (
    "your order has shipped and will arrive tomorrow between 9 and 12 thanks for shopping with us "
    "code is valid for 5 minutes do not share it appointment at the clinic on Monday reply STOP "
    "to opt out balance invoice 2024 paid total 149.90 TL see details at example.com/t/8Xq"
)
TURKISH_TEXT = (
    "siparişiniz kargoya verildi yarın elinize ulaşacak teşekkür ederiz doğrulama kodunuz "
    "dakika geçerlidir kimseyle paylaşmayın randevunuz Pazartesi günü saat 14:30 İstanbul "
    "Şişli şubemizde faturanız ödendi toplam tutar 149,90 TL ığdır çağrı merkezi öğrenci"
)
ENGLISH_WORDS = tuple(ENGLISH_TEXT.split())
TURKISH_WORDS = tuple(TURKISH_TEXT.split())
EMOJI = ("😀", "🎉", "👍", "❤️", "🚚", "✅", "🔥", "🙏")


def corpus(rng: random.Random, words: tuple[str, ...], size: int, length: int) -> list[str]:
    texts = []
    for _ in range(size):
        chosen: list[str] = []
        while sum(len(word) + 1 for word in chosen) < length:
            chosen.append(rng.choice(words))
        texts.append(" ".join(chosen)[:length].rstrip())
    return texts


def mixed(rng: random.Random, size: int) -> list[str]:
    texts = corpus(rng, TURKISH_WORDS + ENGLISH_WORDS, size, rng.randint(30, 60))
    return [f"{text} {rng.choice(EMOJI)}" for text in texts]


def rate(count: Callable[[], None], messages: int, seconds: float) -> float:
    rounds = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or rounds == 0:
        count()
        rounds += 1
    return rounds * messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="texts per corpus")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    rng = random.Random(38)
    corpora = {
        "ascii, 1 segment": corpus(rng, ENGLISH_WORDS, args.messages, 120),
        "turkish, 1 segment": corpus(rng, TURKISH_WORDS, args.messages, 120),
        "mixed + emoji, 1 segment": mixed(rng, args.messages),
        "turkish, 2-6 segments": [
            text
            for size in (200, 300, 450, 600)
            for text in corpus(rng, TURKISH_WORDS, args.messages // 4, size)
        ],
    }
    langs = (SmsLang.ENGLISH, SmsLang.TURKISH, SmsLang.UNICODE, SmsLang.AUTO)
    print(f"{'messages/s':<26}" + "".join(f"{f'sms_lang {lang.value}':>16}" for lang in langs))
    for name, texts in corpora.items():
        cells = []
        for lang in langs:

            def count(texts: list[str] = texts, lang: SmsLang = lang) -> None:
                for text in texts:
                    measure(text, lang)

            cells.append(f"{rate(count, len(texts), args.seconds):>16,.0f}")
        print(f"{name:<26}" + "".join(cells))


if __name__ == "__main__":
    main()
