//! One error type for handlers. It never leaks internals: the response carries a message key,
//! and `web::errors` renders it as a page (HTML) or a JSON problem (API) in the user's language.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// The message key (in `locales/`) that explains what was wrong.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("service unavailable")]
    Unavailable,
    /// Not logged in: go to the login page, then back to this path.
    #[error("login required")]
    LoginRequired(String),
    /// Logged in, but the second factor has not been given in this session.
    #[error("second factor required")]
    SecondFactorRequired,
    #[error("forbidden")]
    Forbidden,
    /// No or an unknown bearer token (API).
    #[error("unauthorized")]
    Unauthorized,
    #[error("csrf check failed")]
    Csrf,
    /// Too many attempts: the message key and the seconds to wait.
    #[error("rate limited")]
    RateLimited(&'static str, u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Attached to error responses so the error renderer knows what to say.
#[derive(Debug, Clone, Copy)]
pub struct ErrorMessage(pub &'static str);

impl AppError {
    /// Names the operation an internal error happened in; other errors pass unchanged.
    pub fn context(self, op: &'static str) -> AppError {
        match self {
            AppError::Internal(e) => AppError::Internal(e.context(op)),
            other => other,
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool exhausted or unreachable");
        AppError::Unavailable
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::LoginRequired(_) | AppError::SecondFactorRequired => StatusCode::SEE_OTHER,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::RateLimited(..) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::LoginRequired(next) => {
                let next = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                return HttpResponse::SeeOther()
                    .insert_header((actix_web::http::header::LOCATION, format!("/login?{next}")))
                    .finish();
            }
            AppError::SecondFactorRequired => {
                return HttpResponse::SeeOther()
                    .insert_header((actix_web::http::header::LOCATION, "/login/2fa"))
                    .finish();
            }
            _ => {}
        }
        let key = match self {
            AppError::NotFound => "error_not_found",
            AppError::BadRequest(key) => key,
            AppError::Unavailable => "error_unavailable",
            AppError::Forbidden => "error_forbidden",
            AppError::Unauthorized => "error_unauthorized",
            AppError::Csrf => "error_csrf",
            AppError::RateLimited(key, _) => key,
            AppError::LoginRequired(_) | AppError::SecondFactorRequired => "error_login_required",
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                "error_internal"
            }
        };
        let mut builder = HttpResponse::build(self.status_code());
        if let AppError::Unauthorized = self {
            builder.insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let AppError::RateLimited(_, secs) = self {
            builder.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        let mut res = builder.content_type("text/plain; charset=utf-8").body(key);
        res.extensions_mut().insert(ErrorMessage(key));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_name_the_operation_that_failed() {
        let e = AppError::from(diesel::result::Error::NotFound).context("claim outbox rows");
        let AppError::Internal(inner) = e else {
            panic!("an internal error stays internal");
        };
        assert_eq!(format!("{inner:#}"), "claim outbox rows: Record not found");
        // Errors the visitor caused keep their meaning.
        assert!(matches!(
            AppError::NotFound.context("load a service"),
            AppError::NotFound
        ));
    }
}
