//! The route table: every path once, with the methods it answers. A path is one `resource`, so
//! a wrong method gets 405 with `Allow` (actix builds it from the routes), and HEAD is answered
//! wherever GET is (`head_as_get` in `web::protocol`).

use actix_web::web::{self, get, post, resource};

use super::{account, admin, api, assets, public, twofactor};

pub fn configure(cfg: &mut web::ServiceConfig, demo: bool) {
    cfg
        // public
        .service(resource("/").route(get().to(public::home)))
        .service(resource("/services").route(get().to(public::catalogue)))
        .service(resource("/services/{code}").route(get().to(public::service)))
        .service(resource("/lang/{lang}").route(get().to(public::switch_lang)))
        .service(resource("/healthz").route(get().to(public::healthz)))
        .service(resource("/readyz").route(get().to(public::readyz)))
        .service(resource("/assets/{name}").route(get().to(assets::asset)))
        // accounts
        .service(
            resource("/register")
                .route(get().to(account::register_form))
                .route(post().to(account::register)),
        )
        .service(resource("/register/sent").route(get().to(account::register_sent)))
        .service(resource("/verify-email").route(get().to(account::verify_email)))
        .service(
            resource("/login")
                .route(get().to(account::login_form))
                .route(post().to(account::login)),
        )
        .service(resource("/logout").route(post().to(account::logout)))
        .service(resource("/logout-everywhere").route(post().to(account::logout_everywhere)))
        .service(
            resource("/password/forgot")
                .route(get().to(account::forgot_form))
                .route(post().to(account::forgot)),
        )
        .service(resource("/password/forgot/sent").route(get().to(account::forgot_sent)))
        .service(
            resource("/password/reset")
                .route(get().to(account::reset_form))
                .route(post().to(account::reset)),
        )
        .service(
            resource("/account")
                .route(get().to(account::profile))
                .route(post().to(account::update_profile)),
        )
        .service(
            resource("/account/email/revert")
                .route(get().to(account::revert_email_form))
                .route(post().to(account::revert_email_confirm)),
        )
        .service(resource("/account/email/reverted").route(get().to(account::revert_email_done)))
        .service(
            resource("/account/api-tokens")
                .route(get().to(account::api_tokens))
                .route(post().to(account::create_api_token)),
        )
        .service(resource("/account/api-tokens/revoke").route(post().to(account::revoke_api_token)))
        .service(
            resource("/login/2fa")
                .route(get().to(twofactor::second_factor_form))
                .route(post().to(twofactor::verify)),
        )
        .service(resource("/login/2fa/enrol").route(post().to(twofactor::enrol)))
        .service(resource("/login/2fa/codes").route(get().to(twofactor::recovery_codes)))
        // administration
        .service(resource("/admin").route(get().to(admin::index)))
        .service(resource("/admin/audit").route(get().to(admin::audit)))
        .service(resource("/admin/outbox").route(get().to(admin::outbox)))
        // JSON API
        .service(
            web::scope("/api/v1")
                .service(resource("/services").route(get().to(api::list_services)))
                .service(resource("/search").route(get().to(api::search)))
                .service(resource("/services/{code}").route(get().to(api::service_detail)))
                .service(resource("/fields").route(get().to(api::fields)))
                .service(resource("/agencies").route(get().to(api::agencies)))
                .service(resource("/provinces").route(get().to(api::provinces)))
                .service(resource("/provinces/{code}/wards").route(get().to(api::wards)))
                .service(resource("/me").route(get().to(api::me)))
                .service(resource("/openapi.json").route(get().to(api::openapi_json))),
        );
    if demo {
        crate::mail::demo::routes(cfg);
    }
}
