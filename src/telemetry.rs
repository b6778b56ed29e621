//! Structured logs: JSON lines by default (one per request, with its request id, from
//! `tracing-actix-web`), human-readable with `PORTAL_LOG_FORMAT=pretty`.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests start several apps in one process) is not an error worth failing for.
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
