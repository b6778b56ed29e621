//! Renders every error response (from handlers, unknown routes, bad paths) in the user's
//! language: a friendly page with a search box for HTML, an RFC 9457 problem for the API.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, web};

use super::api::Problem;
use super::{AppState, base_context, lang_of};
use crate::error::ErrorMessage;

fn default_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error_not_found",
        StatusCode::METHOD_NOT_ALLOWED => "error_method",
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::URI_TOO_LONG => "error_too_large",
        StatusCode::REQUEST_TIMEOUT => "error_timeout",
        StatusCode::SERVICE_UNAVAILABLE => "error_unavailable",
        s if s.is_client_error() => "error_bad_request",
        _ => "error_internal",
    }
}

pub fn render_error<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let marked = res
        .response()
        .extensions()
        .get::<ErrorMessage>()
        .map(|m| m.0);
    // A handler that rendered its own answer (a form shown again with its errors) keeps it.
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if marked.is_none()
        && (content_type.starts_with("text/html")
            || content_type.contains("json")
            || content_type.contains("xml"))
    {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let key = marked.unwrap_or_else(|| default_key(status));
    // Headers that belong to the error's meaning survive the re-rendering.
    let kept: Vec<(header::HeaderName, header::HeaderValue)> = [
        header::RETRY_AFTER,
        header::WWW_AUTHENTICATE,
        header::ALLOW,
        header::CONNECTION,
    ]
    .into_iter()
    .filter_map(|name| res.headers().get(&name).cloned().map(|v| (name, v)))
    .collect();
    let (req, _) = res.into_parts();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let res = ServiceResponse::new(req, HttpResponse::build(status).body(key));
        return Ok(ErrorHandlerResponse::Response(res.map_into_right_body()));
    };
    let lang = lang_of(&req);
    let message = state.messages.text(lang, key).to_string();
    let response = if req.path().starts_with("/api/") {
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        HttpResponse::build(status)
            .content_type("application/problem+json")
            .json(Problem {
                kind: "about:blank".into(),
                title,
                status: status.as_u16(),
                detail: message,
            })
    } else {
        let mut ctx = base_context(&state, &req, lang);
        ctx.insert("status", &status.as_u16());
        ctx.insert("message", &message);
        ctx.insert(
            "offer_search",
            &(status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST),
        );
        match state.tera.render("error.html", &ctx) {
            Ok(html) => HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
                .insert_header((header::CONTENT_LANGUAGE, lang.code()))
                .body(html),
            Err(e) => {
                tracing::error!(error = ?e, "rendering the error page");
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(message)
            }
        }
    };
    let mut response = response;
    for (name, value) in kept {
        response.headers_mut().insert(name, value);
    }
    let res: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
