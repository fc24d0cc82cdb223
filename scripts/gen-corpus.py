#!/usr/bin/env python3
"""Writes benches/data/corpus.jsonl: realistic support-ticket texts for the redaction benchmark.

Mixed Russian and English, about 2 KB each (a quarter of them about 4 KB), each carrying several
personal values: names, postal addresses, e-mails, phones in national and international
spellings, cards, IBANs, IPs, passports, SNILS, INN, plus order numbers, dates and amounts that must not be flagged.
Deterministic (fixed seed), so figures are comparable across runs:

    python3 scripts/gen-corpus.py [count]     # default 600 texts
"""
import json
import random
import sys
from pathlib import Path

rng = random.Random(20261123)

RU_PARAS = [
    "Здравствуйте! Заказ до сих пор не доставлен, хотя в личном кабинете статус «передан в доставку» уже пятый день.",
    "Прошу оформить возврат средств за товар ненадлежащего качества: после первой стирки куртка потеряла цвет.",
    "С карты списали деньги дважды за один и тот же заказ. Прошу проверить и вернуть лишнее списание.",
    "Не могу войти в личный кабинет: код подтверждения не приходит на телефон, восстановление пароля выдаёт ошибку.",
    "Курьер привёз не тот размер. Хочу обменять на размер побольше, но кнопка обмена в приложении неактивна.",
    "Оператор обещал перезвонить в течение дня, но звонка так и не было. Прошу ускорить рассмотрение обращения.",
]
EN_PARAS = [
    "Hello, my order still has not arrived although the tracking page has said 'out for delivery' for five days now.",
    "I would like a refund for a faulty item: the jacket lost its colour after the first wash and the zip came apart.",
    "I was charged twice for the same order. Please check and refund the duplicate payment as soon as possible.",
    "I cannot sign in to my account: the verification code never arrives and the password reset shows an error page.",
    "The courier delivered the wrong size. I want to exchange it for a larger one but the exchange button is greyed out.",
    "Your agent promised a call back within a day but nobody called. Please escalate this request, it is urgent.",
]
RU_NAMES = [("Мария", "Иванова"), ("Иван", "Петров"), ("Ольга", "Смирнова"), ("Дмитрий", "Кузнецов"), ("Анна", "Попова")]
EN_NAMES = [("John", "Smith"), ("Emily", "Johnson"), ("Michael", "Brown"), ("Sarah", "Taylor"), ("David", "Wilson")]
CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "4000000000000002", "3782 822463 10005"]
RU_ADDRESSES = [
    "г. Москва, ул. Ленина, д. 5, кв. 12",
    "125009, Москва, ул. Тверская, д. 7, корп. 2",
    "Московская обл., г. Химки, мкр. Сходня, д. 3",
    "Санкт-Петербург, Невский пр-т, д. 28, кв. 4",
]
EN_ADDRESSES = [
    "350 Fifth Avenue, New York, NY 10118",
    "12 Baker St, Apt 4, London NW1 6XE",
    "1600 Amphitheatre Parkway, Mountain View, CA 94043",
    "PO Box 4371, Springfield",
]
IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "RU0204452560040702810412345678901"]


def digits(n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def entity(russian, first, last):
    kind = rng.randrange(10)
    if kind == 0:
        return f"{'Мой телефон' if russian else 'My phone is'} {rng.choice(['+7 (912) ', '8 912 ', '+44 20 '])}{digits(3)}-{digits(2)}-{digits(2)}."
    if kind == 1:
        return f"{'Почта' if russian else 'E-mail'}: {first.lower() if not russian else 'client'}{digits(2)}@example.{'ru' if russian else 'com'}."
    if kind == 2:
        return f"{'Карта' if russian else 'Card'} {rng.choice(CARDS)}."
    if kind == 3:
        return f"IBAN {rng.choice(IBANS)}."
    if kind == 4:
        return f"IP 10.{rng.randrange(255)}.{rng.randrange(255)}.{rng.randrange(255)}, 2001:db8::{rng.randrange(65535):x}."
    if kind == 5:
        return "Паспорт 45 06 123456, СНИЛС 112-233-445 95." if russian else "Reference SNILS 112-233-445 95."
    if kind == 6:
        return "ИНН 7707083893." if russian else "Tax id (INN) 500100732259."
    if kind == 7:
        return f"{'Заказ' if russian else 'Order'} №{digits(7)} от 12.05.2024 на сумму 12 500,00 руб." if russian else f"Order #{digits(7)} of 2024-05-12, total 1,250.00 EUR."
    if kind == 8:
        return f"{first} {last}."
    return f"{'Адрес доставки' if russian else 'Ship to'}: {rng.choice(RU_ADDRESSES if russian else EN_ADDRESSES)}."


def text(russian, size):
    first, last = rng.choice(RU_NAMES if russian else EN_NAMES)
    paras = RU_PARAS if russian else EN_PARAS
    out = []
    while len(" ".join(out).encode()) < size:
        out.append(rng.choice(paras))
        out.append(entity(russian, first, last))
    return " ".join(out)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    path = Path(__file__).resolve().parent.parent / "benches" / "data" / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            size = 4096 if i % 4 == 3 else 2048
            f.write(json.dumps({"text": text(i % 2 == 0, size)}, ensure_ascii=False) + "\n")
    print(f"wrote {count} texts to {path}")


if __name__ == "__main__":
    main()
