//! Structured logs: JSON lines by default (one per request, with its request id, from
//! `tracing-actix-web`), human-readable with `PORTAL_LOG_FORMAT=pretty`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder, root_span};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests start several apps in one process) is not an error worth failing for.
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// The span of every request: the default fields (method, route pattern, status, request id)
/// plus the signed-in user's id, filled in once the session is resolved
/// (`web::auth::current_user`), so an error logged inside a handler names who hit it and where.
pub struct PortalRootSpan;

impl RootSpanBuilder for PortalRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        root_span!(request, user_id = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
