//! Realistic tickets for the load examples (`loadgen`, `synclat`): 2–4 KB of Russian and
//! English text full of personal data, with comments, from a deterministic generator.

use serde_json::{Value, json};

/// A small deterministic generator, so runs are repeatable.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

const RU_FIRST: &[&str] = &[
    "Мария",
    "Иван",
    "Ольга",
    "Дмитрий",
    "Анна",
    "Сергей",
    "Екатерина",
    "Алексей",
];
const RU_LAST: &[&str] = &[
    "Иванова",
    "Петров",
    "Смирнова",
    "Кузнецов",
    "Попова",
    "Соколов",
    "Лебедева",
    "Новиков",
];
const EN_FIRST: &[&str] = &[
    "John", "Emily", "Michael", "Sarah", "David", "Laura", "James", "Olivia",
];
const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Clark",
];
const RU_PARAGRAPHS: &[&str] = &[
    "Здравствуйте! Заказ до сих пор не доставлен, хотя в личном кабинете статус «передан в доставку» уже пятый день. Курьер не звонил, в пункте выдачи посылки нет.",
    "Прошу оформить возврат средств за товар ненадлежащего качества: после первой стирки куртка потеряла цвет, молния разошлась. Фотографии могу прислать дополнительно.",
    "С карты списали деньги дважды за один и тот же заказ. Прошу проверить и вернуть лишнее списание как можно скорее, мне нужно оплатить коммунальные услуги.",
    "Не могу войти в личный кабинет: код подтверждения не приходит на телефон, а восстановление пароля по почте выдаёт ошибку. Раньше всё работало.",
    "Курьер привёз не тот размер. Хочу обменять на размер побольше, но в приложении кнопка обмена неактивна. Подскажите, как быть, подарок нужен к пятнице.",
];
const EN_PARAGRAPHS: &[&str] = &[
    "Hello, my order still has not arrived although the tracking page has said 'out for delivery' for five days now. Nobody called me and the parcel locker is empty.",
    "I would like a refund for a faulty item: the jacket lost its colour after the first wash and the zip came apart. I can send photos if that helps your review.",
    "I was charged twice for the same order. Please check and refund the duplicate payment as soon as possible, I need the money for my rent this week.",
    "I cannot sign in to my account: the verification code never arrives on my phone and the password reset e-mail shows an error page. It used to work fine.",
    "The courier delivered the wrong size. I want to exchange it for a larger one but the exchange button in the app is greyed out. It is a gift needed by Friday.",
];

const PRIORITIES: [&str; 3] = ["low", "normal", "high"];
const CATEGORIES: [&str; 4] = ["delivery", "orders", "returns", "billing"];

/// Ticket `seq` of a run whose external ids start with `prefix`, with `comments` comments.
pub fn ticket(rng: &mut Rng, prefix: &str, seq: u64, comments: usize) -> Value {
    let russian = seq.is_multiple_of(2);
    let (first, last, paragraphs, language) = if russian {
        (rng.pick(RU_FIRST), rng.pick(RU_LAST), RU_PARAGRAPHS, "ru")
    } else {
        (rng.pick(EN_FIRST), rng.pick(EN_LAST), EN_PARAGRAPHS, "en")
    };
    let email = format!(
        "{}.{}{}@example.{}",
        first.len(),
        last.len(),
        rng.digits(3),
        if russian { "ru" } else { "com" }
    );
    let phone = if russian {
        format!(
            "+7 (9{}) {}-{}-{}",
            rng.digits(2),
            rng.digits(3),
            rng.digits(2),
            rng.digits(2)
        )
    } else {
        format!("+44 20 {} {}", rng.digits(4), rng.digits(4))
    };
    let card = format!("4111 {} {} {}", rng.digits(4), rng.digits(4), rng.digits(4));
    let target = 2_048 + (rng.next() % 2_048) as usize;
    let mut description = String::new();
    while description.len() < target {
        description.push_str(rng.pick(paragraphs));
        description.push(' ');
        match rng.next() % 4 {
            0 => description.push_str(&format!("Мой телефон {phone}, почта {email}. ")),
            1 => description.push_str(&format!(
                "Card {card}, IBAN GB82WEST1234569876{}. ",
                rng.digits(4)
            )),
            2 => description.push_str(&format!(
                "ИНН 7707083893, СНИЛС 112-233-445 95, IP 192.168.{}.{}. ",
                rng.next() % 255,
                rng.next() % 255
            )),
            _ => description.push_str(&format!("{first} {last}, order #{}. ", rng.digits(7))),
        }
    }
    json!({
        "source": "loadgen",
        "external_id": format!("{prefix}-{seq}"),
        "subject": if russian { format!("Заказ {} — {} {}", rng.digits(7), first, last) } else { format!("Order {} — {} {}", rng.digits(7), first, last) },
        "description": description,
        "requester": { "name": format!("{first} {last}"), "email": email, "phone": phone },
        "channel": if seq.is_multiple_of(3) { "chat" } else { "email" },
        "priority": PRIORITIES[(seq % 3) as usize],
        "category": CATEGORIES[(seq % 4) as usize],
        "language": language,
        "tags": ["loadgen"],
        "custom_fields": { "order_id": rng.digits(7) },
        "status": "open",
        "comments": (0..comments).map(|c| json!({
            "external_id": format!("c{c}"),
            "author": if c % 2 == 0 { format!("{first} {last}") } else { "Support agent".to_owned() },
            "body": rng.pick(paragraphs),
            "public": c % 2 == 0,
        })).collect::<Vec<_>>()
    })
}
