//! The route table: every path once, with the methods it answers. A path is one `resource`, so
//! a wrong method gets 405 with `Allow` (actix builds it from the routes), and HEAD is answered
//! wherever GET is (`head_as_get` in `web::protocol`).

use actix_web::web::{self, get, post, resource};

use super::{
    account, admin, api, apply, assets, citizen, directory, pay, public, staff, tracking,
    twofactor, verify,
};

pub fn configure(cfg: &mut web::ServiceConfig, demo: bool, sandbox: bool) {
    // A form page may carry long answers; a 1 MB field is refused with a message, not a 413.
    let long_forms = || web::FormConfig::default().limit(2 * 1024 * 1024);
    cfg
        // public
        .service(resource("/").route(get().to(public::home)))
        .service(resource("/services").route(get().to(public::catalogue)))
        .service(resource("/services/{code}").route(get().to(public::service)))
        .service(resource("/agencies/{office_id}").route(get().to(directory::office)))
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
        // applications
        .service(
            resource("/apply/{code}")
                .route(get().to(apply::start))
                .route(post().to(apply::choose_place)),
        )
        .service(resource("/drafts/{id}").route(get().to(apply::tasks)))
        .service(
            resource("/drafts/{id}/sections/{key}")
                .app_data(long_forms())
                .route(get().to(apply::section))
                .route(post().to(apply::save_section)),
        )
        .service(
            resource("/drafts/{id}/documents")
                .route(get().to(apply::documents))
                .route(post().to(apply::upload)),
        )
        .service(resource("/drafts/{id}/documents/done").route(post().to(apply::documents_done)))
        .service(
            resource("/drafts/{id}/documents/{file}/delete").route(post().to(apply::delete_file)),
        )
        .service(resource("/drafts/{id}/check").route(get().to(apply::check)))
        .service(resource("/drafts/{id}/submit").route(post().to(apply::submit)))
        .service(resource("/drafts/{id}/pay").route(post().to(pay::start)))
        .service(
            resource("/drafts/{id}/delete")
                .route(get().to(apply::delete_draft_form))
                .route(post().to(apply::delete_draft)),
        )
        .service(resource("/files/{id}").route(get().to(apply::download)))
        .service(resource("/files/{id}/view").route(get().to(apply::view_file)))
        .service(resource("/my").route(get().to(tracking::my)))
        .service(resource("/dossiers/{code}").route(get().to(tracking::dossier)))
        .service(resource("/dossiers/{code}/supplement").route(post().to(citizen::supplement)))
        .service(resource("/dossiers/{code}/withdraw").route(post().to(citizen::withdraw)))
        .service(resource("/dossiers/{code}/pay").route(post().to(pay::pay_charge)))
        .service(resource("/dossiers/{code}/result").route(get().to(citizen::result)))
        .service(resource("/dossiers/{code}/rating").route(post().to(citizen::rate)))
        .service(
            resource("/verify")
                .route(get().to(verify::verify_page))
                .route(post().to(verify::verify_file)),
        )
        .service(
            resource("/track")
                .route(get().to(tracking::track_form))
                .route(post().to(tracking::track)),
        )
        .service(resource("/payments/vnpay/ipn").route(get().to(pay::ipn)))
        .service(resource("/payments/vnpay/return").route(get().to(pay::return_page)))
        // the agency workspace
        .service(resource("/staff").route(get().to(staff::queue)))
        .service(
            resource("/staff/dossiers/{code}")
                .route(get().to(staff::dossier))
                .route(post().to(staff::act)),
        )
        .service(resource("/staff/dossiers/{code}/handover").route(post().to(staff::handover)))
        .service(
            resource("/staff/dossiers/{code}/result")
                .route(get().to(staff::result_download))
                .route(post().to(staff::issue_result)),
        )
        .service(resource("/staff/consultations").route(get().to(staff::consultations)))
        .service(resource("/staff/settings").route(post().to(staff::settings)))
        .service(
            resource("/staff/dossiers/{code}/forms/{number}").route(get().to(staff::desk_form)),
        )
        .service(
            resource("/staff/counter")
                .route(get().to(staff::counter))
                .route(post().to(staff::start_counter)),
        )
        .service(resource("/staff/consultations/{id}").route(post().to(staff::answer)))
        // administration
        .service(resource("/admin").route(get().to(admin::index)))
        .service(resource("/admin/audit").route(get().to(admin::audit)))
        .service(resource("/admin/outbox").route(get().to(admin::outbox)))
        .service(resource("/admin/people").route(get().to(admin::people)))
        .service(
            resource("/admin/people/new")
                .route(get().to(admin::invite_form))
                .route(post().to(admin::invite)),
        )
        .service(resource("/admin/people/{id}").route(get().to(admin::person)))
        .service(resource("/admin/people/{id}/role").route(post().to(admin::role)))
        .service(resource("/admin/people/{id}/offices").route(post().to(admin::membership)))
        .service(
            resource("/admin/people/{id}/offices/remove")
                .route(post().to(admin::remove_membership)),
        )
        .service(resource("/admin/people/{id}/disable").route(post().to(admin::disable)))
        .service(resource("/admin/people/{id}/second-factor").route(post().to(admin::reset_2fa)))
        .service(
            resource("/admin/routing")
                .route(get().to(admin::routing))
                .route(post().to(admin::save_rule)),
        )
        .service(resource("/admin/routing/delete").route(post().to(admin::delete_rule)))
        .service(resource("/admin/routing/gaps").route(get().to(admin::routing_gaps)))
        .service(resource("/admin/routing/{id}").route(get().to(admin::rule_form)))
        .service(resource("/admin/offices").route(get().to(admin::offices)))
        .service(
            resource("/admin/offices/{office_id}")
                .route(get().to(admin::office))
                .route(post().to(admin::save_office)),
        )
        .service(resource("/admin/services").route(get().to(admin::services)))
        .service(resource("/admin/services/{code}").route(get().to(admin::service)))
        .service(resource("/admin/services/{code}/level").route(post().to(admin::set_level)))
        .service(
            resource("/admin/services/{code}/record")
                // A record's text runs to tens of kilobytes (the form default is 16 KB).
                .app_data(web::FormConfig::default().limit(2 * 1024 * 1024))
                .route(get().to(admin::record_form))
                .route(post().to(admin::save_record)),
        )
        .service(resource("/admin/services/{code}/rollback").route(post().to(admin::rollback)))
        .service(
            resource("/admin/services/{code}/publish").route(post().to(admin::publish_service)),
        )
        .service(
            resource("/admin/import")
                .route(get().to(admin::import_form))
                .route(post().to(admin::import_dry_run)),
        )
        .service(resource("/admin/import/apply").route(post().to(admin::apply_import)))
        .service(resource("/admin/calendar").route(get().to(admin::calendar)))
        .service(resource("/admin/calendar/holidays").route(post().to(admin::save_holiday)))
        .service(
            resource("/admin/calendar/holidays/delete").route(post().to(admin::delete_holiday)),
        )
        .service(resource("/admin/calendar/holidays/{day}").route(get().to(admin::holiday_form)))
        .service(resource("/admin/calendar/hours").route(post().to(admin::set_hours)))
        .service(resource("/admin/calendar/import").route(post().to(admin::import_holidays)))
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
                .service(resource("/dossiers/{code}").route(get().to(tracking::api_dossier)))
                .service(resource("/openapi.json").route(get().to(api::openapi_json))),
        );
    if demo {
        crate::mail::demo::routes(cfg);
    }
    if sandbox {
        cfg.service(
            resource("/sandbox/vnpay/pay")
                .route(get().to(pay::sandbox_page))
                .route(post().to(pay::sandbox_decide)),
        )
        .service(resource("/sandbox/vnpay/query").route(post().to(pay::sandbox_query)));
    }
}
