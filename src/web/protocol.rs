//! HTTP protocol hygiene the handlers should not have to think about: HEAD answered wherever
//! GET is, `Allow` naming HEAD beside GET on a 405, and a deadline on reading request bodies so
//! a client that stops sending cannot hold a connection.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_core::Stream;
use tokio::time::{Instant, Sleep, sleep, sleep_until};

/// Routes HEAD as GET. The HTTP/1 codec remembers that the request was HEAD and sends the
/// headers of the GET answer (with its length) and no body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let mut res = next.call(req).await?;
    if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = res
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(allow) = allow.filter(|a| a.contains("GET") && !a.contains("HEAD"))
            && let Ok(v) = header::HeaderValue::from_str(&format!("{allow}, HEAD"))
        {
            res.headers_mut().insert(header::ALLOW, v);
        }
    }
    Ok(res)
}

/// How long a request body may take: `idle` without a byte, `total` for the whole body.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    pub idle: Duration,
    pub total: Duration,
}

/// Wraps the request body in [`TimedPayload`]; when it ran out of time, the answer is
/// 408 Request Timeout (whatever the extractor made of the broken body) and the connection
/// closes.
pub async fn body_deadline(
    deadline: BodyDeadline,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    // Most requests (every GET) carry no body: no timers for them.
    let declares_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if !declares_body {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let timed_out = Rc::new(Cell::new(false));
    let payload = req.take_payload();
    let timed = TimedPayload {
        inner: payload,
        idle: deadline.idle,
        idle_timer: Box::pin(sleep(deadline.idle)),
        total_timer: Box::pin(sleep_until(Instant::now() + deadline.total)),
        timed_out: timed_out.clone(),
        done: false,
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(timed),
    });
    let res = next.call(req).await?;
    if timed_out.get() {
        let (req, _) = res.into_parts();
        let mut answer = actix_web::HttpResponse::build(StatusCode::REQUEST_TIMEOUT)
            .insert_header((header::CONNECTION, "close"))
            .content_type("text/plain; charset=utf-8")
            .body("request body timed out");
        answer
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
        return Ok(ServiceResponse::new(req, answer));
    }
    Ok(res.map_into_boxed_body())
}

/// A request body that fails with a timeout when no byte arrives for `idle` or the whole body
/// takes longer than the total deadline.
struct TimedPayload {
    inner: Payload,
    idle: Duration,
    idle_timer: Pin<Box<Sleep>>,
    total_timer: Pin<Box<Sleep>>,
    timed_out: Rc<Cell<bool>>,
    done: bool,
}

impl Stream for TimedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(chunk)) => {
                let deadline = Instant::now() + this.idle;
                this.idle_timer.as_mut().reset(deadline);
                return Poll::Ready(Some(chunk));
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.idle_timer.as_mut().poll(cx).is_ready()
            || this.total_timer.as_mut().poll(cx).is_ready()
        {
            this.done = true;
            this.timed_out.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body timed out",
            )))));
        }
        Poll::Pending
    }
}
