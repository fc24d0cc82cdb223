//! A webhook receiver on 127.0.0.1 for tests: answers from a script, logs what it got.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    RetryAfter(u16, &'static str),
    Slow(Duration),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub status: u16,
}

impl Received {
    pub fn envelope(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A webhook receiver: answers from its script (then 200), and logs every request it answered.
#[derive(Clone, Default)]
pub struct Receiver {
    log: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

async fn receive(req: HttpRequest, body: Bytes, receiver: Data<Receiver>) -> HttpResponse {
    let reply = receiver
        .script
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front()
        .unwrap_or(Reply::Status(200));
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, retry_after) = match reply {
        Reply::Status(s) => (s, None),
        Reply::RetryAfter(s, after) => (s, Some(after)),
        Reply::Slow(d) => {
            tokio::time::sleep(d).await;
            (200, None)
        }
    };
    receiver
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
            status,
        });
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    if let Some(after) = retry_after {
        response.insert_header(("retry-after", after));
    }
    response.finish()
}

/// Serves every request with `handler` (given `state` as `Data`) on a free port of
/// 127.0.0.1, one worker, until the test ends; returns the port.
pub fn serve_on_loopback<T, F, Args>(state: T, handler: F) -> u16
where
    T: Clone + Send + 'static,
    F: actix_web::Handler<Args> + Clone + Send + 'static,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    let server = HttpServer::new(move || {
        App::new()
            .app_data(Data::new(state.clone()))
            .default_service(web::to(handler.clone()))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap_or_else(|e| panic!("{e}"));
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    port
}

impl Receiver {
    pub fn start(script: &[Reply]) -> (Self, String) {
        let receiver = Self::default();
        receiver
            .script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(script.iter().cloned());
        let port = serve_on_loopback(receiver.clone(), receive);
        (receiver, format!("http://127.0.0.1:{port}/hooks"))
    }

    pub fn log(&self) -> Vec<Received> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn delivered(&self) -> Vec<Received> {
        self.log()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Waits (real time, bounded) until `done` holds, calling `between` on each turn.
    pub async fn wait_until(&self, mut done: impl FnMut(&Self) -> bool, mut between: impl FnMut()) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "receiver never saw it: {:?}",
                self.log()
            );
            between();
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
