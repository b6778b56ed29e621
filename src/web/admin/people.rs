//! People: find accounts, invite staff (a one-time set-password link by email, through the
//! outbox), give or take roles and office memberships, disable an account, reset a second
//! factor, read a person's audit trail. The last administrator and one's own administrator
//! role are protected in the same transaction as the change.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::{AuditView, origin};
use crate::db::people::{self, Invitation, Outcome, PersonRow};
use crate::domain::account::{NAME_MAX, Role, parse_email, parse_line};
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token};

/// How long an invitation link stays valid.
const INVITATION_HOURS: i64 = 72;

#[derive(Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
}

#[derive(Serialize)]
struct PersonView {
    id: i64,
    email: String,
    full_name: String,
    role: String,
    disabled: bool,
    second_factor: bool,
    created: String,
}

impl From<PersonRow> for PersonView {
    fn from(p: PersonRow) -> Self {
        PersonView {
            id: p.id,
            email: p.email,
            full_name: p.full_name,
            role: p.role,
            disabled: p.disabled_at.is_some(),
            second_factor: p.totp_enabled_at.is_some(),
            created: p.created_at.format("%Y-%m-%d").to_string(),
        }
    }
}

fn roles() -> Vec<&'static str> {
    [Role::Citizen, Role::Officer, Role::Lead, Role::Admin]
        .map(Role::as_str)
        .to_vec()
}

/// Each role's name in the page's language, by its key.
fn role_labels(
    state: &AppState,
    lang: crate::i18n::Lang,
) -> std::collections::BTreeMap<&'static str, String> {
    roles()
        .into_iter()
        .map(|r| {
            (
                r,
                state.messages.text(lang, &format!("role_{r}")).to_string(),
            )
        })
        .collect()
}

/// GET `/admin/people`: find people by email or name, optionally of one role.
pub async fn people(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let q = query.q.trim().chars().take(100).collect::<String>();
    let role = Role::parse(query.role.trim());
    let q2 = q.clone();
    let rows = with_db(&state, "find people", move |conn| {
        Ok(people::search(conn, &q2, role, 100)?)
    })
    .await?;
    let rows: Vec<PersonView> = rows.into_iter().map(PersonView::from).collect();
    page(
        &state,
        &req,
        lang,
        "admin/people.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("rows", &rows);
            ctx.insert("q", &q);
            ctx.insert("role", &role.map(Role::as_str).unwrap_or(""));
            ctx.insert("roles", &roles());
            ctx.insert("role_labels", &role_labels(state.get_ref(), lang));
        },
    )
}

#[derive(Deserialize, Serialize, Default)]
pub struct InviteForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    lead: String,
}

fn invite_page(
    state: &AppState,
    req: &HttpRequest,
    form: &InviteForm,
    errors: &[(&str, String)],
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let errors: std::collections::BTreeMap<&str, &String> =
        errors.iter().map(|(k, v)| (*k, v)).collect();
    page(
        state,
        req,
        lang_of(req),
        "admin/invite.html",
        status,
        |ctx| {
            ctx.insert("form", form);
            ctx.insert("errors", &errors);
            ctx.insert(
                "staff_roles",
                &[Role::Officer, Role::Lead, Role::Admin].map(Role::as_str),
            );
            ctx.insert("role_labels", &role_labels(state, lang_of(req)));
        },
    )
}

/// GET `/admin/people/new`: the form to create a staff account.
pub async fn invite_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let form = InviteForm {
        role: Role::Officer.as_str().into(),
        ..InviteForm::default()
    };
    invite_page(&state, &req, &form, &[], StatusCode::OK)
}

/// POST `/admin/people/new`: creates the account and sends the invitation. Every field's
/// problem is named at once and what was typed is kept.
pub async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let form = body.into_inner();
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let mut errors: Vec<(&str, String)> = Vec::new();
    let email = parse_email(&form.email);
    if email.is_none() {
        errors.push(("email", m("err_email")));
    }
    let name = parse_line(&form.full_name, NAME_MAX)
        .ok()
        .filter(|n| n.chars().count() >= 2);
    if name.is_none() {
        errors.push(("full_name", m("err_full_name")));
    }
    let role = Role::parse(&form.role).filter(|r| *r != Role::Citizen);
    if role.is_none() {
        errors.push(("role", m("people_role_required")));
    }
    let office_code = form.office.trim().to_string();
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        return invite_page(&state, &req, &form, &errors, StatusCode::BAD_REQUEST);
    };
    if role.is_staff() && office_code.is_empty() {
        errors.push(("office", m("people_office_required")));
        return invite_page(&state, &req, &form, &errors, StatusCode::BAD_REQUEST);
    }
    let token = random_token();
    let link = format!(
        "{}/password/reset?token={token}",
        state.settings.public_url.trim_end_matches('/')
    );
    let mut ctx = tera::Context::new();
    ctx.insert("name", &name);
    ctx.insert("link", &link);
    let message =
        crate::mail::render(&state.tera, lang, "set_password", &ctx).map_err(AppError::Internal)?;
    let lead = form.lead == "on" && role.is_staff();
    let o = origin(&req);
    let admin_id = admin.0.user.id;
    let outcome: Outcome<i64> = with_db(&state, "invite a staff member", move |conn| {
        let office = if role.is_staff() {
            match crate::db::directory::find_office(conn, &office_code)? {
                Some(office) => Some((office.id, lead)),
                None => return Ok(Err(people::Refusal::UnknownOffice)),
            }
        } else {
            None
        };
        let invitation = Invitation {
            email: &email,
            full_name: &name,
            role,
            office,
            token_hash: &hash_token(&token),
            valid_for: Duration::hours(INVITATION_HOURS),
            message: &message,
        };
        Ok(people::invite(conn, admin_id, &invitation, &o)?)
    })
    .await?;
    match outcome {
        Ok(id) => Ok(see_other(&format!("/admin/people/{id}?done=invited"))),
        Err(r) => {
            let field = match r {
                people::Refusal::EmailTaken => "email",
                _ => "office",
            };
            errors.push((field, m(r.message_key())));
            invite_page(&state, &req, &form, &errors, StatusCode::BAD_REQUEST)
        }
    }
}

#[derive(Deserialize)]
pub struct PersonQuery {
    #[serde(default)]
    done: String,
}

/// Success notices a change redirects with (`?done=`); anything else shows nothing.
const NOTICES: [&str; 6] = [
    "invited",
    "role",
    "membership",
    "disabled",
    "enabled",
    "second_factor",
];

async fn person_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    id: i64,
    notice: Option<&str>,
    error: Option<people::Refusal>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let (person, memberships, trail) = with_db(state, "read a person", move |conn| {
        let Some(p) = people::person(conn, id)? else {
            return Ok((None, Vec::new(), Vec::new()));
        };
        Ok((
            Some(p),
            people::memberships(conn, id)?,
            people::trail(conn, id, 100)?,
        ))
    })
    .await?;
    let person = person.ok_or(AppError::NotFound)?;
    let trail: Vec<AuditView> = trail.into_iter().map(AuditView::from).collect();
    let is_staff = Role::parse(&person.role).is_some_and(Role::is_staff);
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let notice = notice
        .filter(|n| NOTICES.contains(n))
        .map(|n| format!("people_done_{n}"));
    page(state, req, lang, "admin/person.html", status, |ctx| {
        ctx.insert("p", &PersonView::from(person));
        ctx.insert("is_staff", &is_staff);
        ctx.insert("memberships", &memberships);
        ctx.insert("trail", &trail);
        ctx.insert("roles", &roles());
        ctx.insert("role_labels", &role_labels(state.get_ref(), lang));
        ctx.insert("notice", &notice);
        ctx.insert("error", &error.map(|e| e.message_key()));
    })
}

/// GET `/admin/people/{id}`: the account, its roles and offices, the actions, its trail.
pub async fn person(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<i64>,
    query: web::Query<PersonQuery>,
) -> Result<HttpResponse, AppError> {
    person_page(&state, &req, *path, Some(query.done.as_str()), None).await
}

/// After a change: 303 to the person's page with the notice, or their page with the reason
/// the change was refused (400, nothing written).
async fn answer(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    id: i64,
    outcome: Outcome<()>,
    notice: &str,
) -> Result<HttpResponse, AppError> {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/admin/people/{id}?done={notice}"))),
        Err(people::Refusal::NotFound) => Err(AppError::NotFound),
        Err(r) => person_page(state, req, id, None, Some(r)).await,
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

/// POST `/admin/people/{id}/role`.
pub async fn role(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i64>,
    body: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let id = *path;
    let role = Role::parse(body.role.trim()).ok_or(AppError::BadRequest("people_role_required"))?;
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "change a role", move |conn| {
        Ok(people::set_role(conn, admin_id, id, role, &o)?)
    })
    .await?;
    answer(&state, &req, id, outcome, "role").await
}

#[derive(Deserialize)]
pub struct MembershipForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    lead: String,
}

/// POST `/admin/people/{id}/offices`: adds the person to an office (by its identifier) or
/// changes whether they lead it.
pub async fn membership(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i64>,
    body: web::Form<MembershipForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let id = *path;
    let office = body.office.trim().to_string();
    let lead = body.lead == "on";
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "change an office membership", move |conn| {
        let Some(office) = crate::db::directory::find_office(conn, &office)? else {
            return Ok(Err(people::Refusal::UnknownOffice));
        };
        Ok(people::set_membership(
            conn, admin_id, id, office.id, lead, &o,
        )?)
    })
    .await?;
    answer(&state, &req, id, outcome, "membership").await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    agency: i64,
}

/// POST `/admin/people/{id}/offices/remove`.
pub async fn remove_membership(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i64>,
    body: web::Form<RemoveForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let (id, agency) = (*path, body.agency);
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "remove an office membership", move |conn| {
        Ok(people::remove_membership(conn, admin_id, id, agency, &o)?)
    })
    .await?;
    answer(&state, &req, id, outcome, "membership").await
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `disable` or `enable`.
    #[serde(default)]
    action: String,
}

/// POST `/admin/people/{id}/disable`: disables (sessions end at once) or enables an account.
pub async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i64>,
    body: web::Form<DisableForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let id = *path;
    let disable = match body.action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(AppError::BadRequest("admin_bad_action")),
    };
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "disable or enable an account", move |conn| {
        Ok(people::set_disabled(conn, admin_id, id, disable, &o)?)
    })
    .await?;
    let notice = if disable { "disabled" } else { "enabled" };
    answer(&state, &req, id, outcome, notice).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// POST `/admin/people/{id}/second-factor`: removes the second factor; the person enrols
/// again at their next login.
pub async fn reset_2fa(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<i64>,
    body: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let id = *path;
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "reset a second factor", move |conn| {
        Ok(people::reset_second_factor(conn, admin_id, id, &o)?)
    })
    .await?;
    answer(&state, &req, id, outcome, "second_factor").await
}
