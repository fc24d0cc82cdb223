//! A deadline on reading a request's body: a client that sends its headers and then trickles
//! (or never sends) the body would otherwise hold its connection and request open for as long
//! as it likes. Past the deadline the body reads as a timed-out I/O error, which the JSON
//! extractor answers 408 `request_timeout`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;

/// Gives `req`'s body (if it has one) `timeout` from now to arrive.
pub fn apply(req: &mut ServiceRequest, timeout: Duration) {
    let body = req.take_payload();
    if matches!(body, Payload::None) {
        return;
    }
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        body,
        timer: Box::pin(tokio::time::sleep(timeout)),
        expired: false,
    });
    req.set_payload(Payload::from(stream));
}

/// Whether a body read failed because its deadline passed.
pub fn timed_out(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

struct Deadline {
    body: Payload,
    timer: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(next) = Pin::new(&mut self.body).poll_next(cx) {
            return Poll::Ready(next);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
