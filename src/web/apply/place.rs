//! Where to file: the level (when several implement the service, in plain words) and the place
//! (a ward or a province), routed to an office before the citizen types anything. A place with
//! no office gets a clear message, never an orphan draft. Level 1–2 services answer with the
//! office to visit in person.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{draft_path, new_public_id, now, require_citizen};
use crate::catalogue::places::Unit;
use crate::db::directory::{self, Office, Place, RoutableService};
use crate::db::drafts::{self, DraftState, NewDraft};
use crate::db::{dossiers, forms};
use crate::domain::form_schema::{Prefill, initial_answers};
use crate::domain::routing::{Level, PlaceNeed, Rule, decide, filing_levels};
use crate::error::AppError;
use crate::web::account::page;
use crate::web::auth::{SessionUser, check_csrf, current_user};
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

#[derive(Debug, Default, Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    level: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    ward: String,
    #[serde(default)]
    action: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

#[derive(Serialize)]
struct LevelOption {
    value: &'static str,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Found {
    office: Office,
    note: String,
}

struct Routing {
    service: RoutableService,
    rules: Vec<Rule>,
    levels: Vec<Level>,
}

impl Routing {
    fn online(&self) -> bool {
        self.service.online_level >= 3 && !self.levels.is_empty()
    }
}

async fn routing(state: &web::Data<AppState>, code: String) -> Result<Routing, AppError> {
    with_db(state, "route a service", move |conn| {
        let service = directory::routable_service(conn, &code)?.ok_or(AppError::NotFound)?;
        let rules = directory::rules(conn)?;
        let levels = filing_levels(&rules, &service.key(), &service.levels);
        Ok(Routing {
            service,
            rules,
            levels,
        })
    })
    .await
}

fn chosen_level(r: &Routing, raw: &str) -> Option<Level> {
    match Level::parse(raw) {
        Some(l) if r.levels.contains(&l) => Some(l),
        _ if r.levels.len() == 1 => r.levels.first().copied(),
        _ => None,
    }
}

/// Field → message key of what is wrong with the place.
type PlaceErrors = BTreeMap<&'static str, &'static str>;

fn check_place(
    state: &AppState,
    r: &Routing,
    f: &PlaceForm,
) -> (Option<Level>, Place, PlaceErrors) {
    let mut errors = PlaceErrors::new();
    let level = chosen_level(r, &f.level);
    if level.is_none() {
        errors.insert("level", "apply_err_level");
    }
    let province = f.province.trim().to_string();
    let ward = f.ward.trim().to_string();
    let mut place = Place::default();
    match level.map(Level::needs) {
        Some(PlaceNeed::Ward) => {
            if province.is_empty() || !state.places.exists(&province, None) {
                errors.insert("province", "apply_err_province");
            } else if ward.is_empty() || !state.places.exists(&province, Some(&ward)) {
                errors.insert("ward", "apply_err_ward");
            } else {
                place.province = Some(province);
                place.ward = Some(ward);
            }
        }
        Some(PlaceNeed::Province) => {
            if province.is_empty() || !state.places.exists(&province, None) {
                errors.insert("province", "apply_err_province");
            } else {
                place.province = Some(province);
            }
        }
        Some(PlaceNeed::Nothing) | None => {}
    }
    (level, place, errors)
}

/// The office for a checked place, or the "no office here" error.
async fn route(
    state: &web::Data<AppState>,
    r: &Routing,
    level: Level,
    place: &Place,
) -> Result<Option<(Rule, Office)>, AppError> {
    let Some(rule) = decide(&r.rules, &r.service.key(), level).cloned() else {
        return Ok(None);
    };
    let ministry_id = r.service.ministry_id;
    let place = place.clone();
    with_db(state, "find the office for a place", move |conn| {
        Ok(directory::office_for(conn, &rule, ministry_id, &place)?.map(|o| (rule, o)))
    })
    .await
}

#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    req: &HttpRequest,
    r: &Routing,
    form: &PlaceForm,
    errors: &PlaceErrors,
    found: Option<Found>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let level = chosen_level(r, &form.level);
    let levels: Vec<LevelOption> = r
        .levels
        .iter()
        .map(|l| LevelOption {
            value: l.as_str(),
            label: m(&format!("apply_level_{}", l.as_str())),
            selected: Some(*l) == level,
        })
        .collect();
    let provinces: &[Unit] = state.places.provinces();
    let wards: &[Unit] = state.places.wards_of(form.province.trim());
    let error_texts: BTreeMap<&str, String> = errors.iter().map(|(k, v)| (*k, m(v))).collect();
    page(state, req, lang, "apply/place.html", status, |ctx| {
        ctx.insert("code", &r.service.code);
        ctx.insert("name", &r.service.name);
        ctx.insert("online", &r.online());
        ctx.insert("online_level", &r.service.online_level);
        ctx.insert("levels", &levels);
        ctx.insert("needs_ward", &r.levels.contains(&Level::Commune));
        ctx.insert(
            "needs_province",
            &r.levels.iter().any(|l| *l != Level::Ministry),
        );
        ctx.insert("provinces", provinces);
        ctx.insert("wards", wards);
        ctx.insert("province", form.province.trim());
        ctx.insert("ward", form.ward.trim());
        ctx.insert("errors", &error_texts);
        ctx.insert("found", &found);
    })
}

fn defaults(q: PlaceForm, viewer: Option<&SessionUser>) -> PlaceForm {
    let mut f = q;
    if let Some(s) = viewer
        && f.province.is_empty()
    {
        f.province = s.user.province_code.clone().unwrap_or_default();
        if f.ward.is_empty() {
            f.ward = s.user.ward_code.clone().unwrap_or_default();
        }
    }
    f
}

/// GET `/apply/{code}`: the place step (online services) or where to go in person.
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    q: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let viewer = current_user(&state, &req).await?;
    let r = routing(&state, code.into_inner()).await?;
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let asked = PlaceForm {
        level: get("level"),
        province: get("province"),
        ward: get("ward"),
        ..Default::default()
    };
    if r.online() {
        let Some(s) = viewer.as_ref() else {
            return Err(AppError::LoginRequired(req.path().to_string()));
        };
        if !s.mfa_ok {
            return Err(AppError::SecondFactorRequired);
        }
        require_citizen(s)?;
        let form = defaults(asked, Some(s));
        return render(
            &state,
            &req,
            &r,
            &form,
            &PlaceErrors::new(),
            None,
            StatusCode::OK,
        );
    }
    // In person: a place given in the query is routed to the office to visit.
    let form = defaults(asked, viewer.as_ref());
    let mut found = None;
    let mut errors = PlaceErrors::new();
    if !r.levels.is_empty() && q.contains_key("level") {
        let (level, place, e) = check_place(&state, &r, &form);
        errors = e;
        if let (Some(level), true) = (level, errors.is_empty()) {
            match route(&state, &r, level, &place).await? {
                Some((rule, office)) => {
                    found = Some(Found {
                        office,
                        note: rule_note(&state, rule.id).await?,
                    })
                }
                None => {
                    errors.insert("place", "apply_no_office");
                }
            }
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(&state, &req, &r, &form, &errors, found, status)
}

async fn rule_note(state: &web::Data<AppState>, id: i64) -> Result<String, AppError> {
    with_db(state, "read a routing rule", move |conn| {
        Ok(directory::rule_note(conn, id)?)
    })
    .await
}

/// POST `/apply/{code}`: checks the place, routes it, and starts a draft there.
pub async fn choose_place(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    body: web::Form<PlaceForm>,
) -> Result<HttpResponse, AppError> {
    let Some(s) = current_user(&state, &req).await? else {
        return Err(AppError::LoginRequired(req.path().to_string()));
    };
    if !s.mfa_ok {
        return Err(AppError::SecondFactorRequired);
    }
    let form = body.into_inner();
    check_csrf(&req, &form.csrf)?;
    require_citizen(&s)?;
    let r = routing(&state, code.into_inner()).await?;
    if !r.online() {
        return Err(AppError::NotFound);
    }
    if form.action == "refresh" {
        return render(
            &state,
            &req,
            &r,
            &form,
            &PlaceErrors::new(),
            None,
            StatusCode::OK,
        );
    }
    let (level, place, mut errors) = check_place(&state, &r, &form);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(level) = level.filter(|_| errors.is_empty()) else {
        return render(&state, &req, &r, &form, &errors, None, unprocessable);
    };
    let Some((rule, office)) = route(&state, &r, level, &place).await? else {
        errors.insert("place", "apply_no_office");
        return render(&state, &req, &r, &form, &errors, None, unprocessable);
    };
    let public_id = create_draft(
        &state,
        s.user.clone(),
        &r.service,
        level,
        place,
        (rule, office),
        BTreeMap::new(),
    )
    .await?;
    Ok(see_other(&draft_path(&public_id, "")))
}

/// Starts a draft for `user` at the routed office, the answers prefilled from the account and
/// `given` (keys of the form only) on top; its public id.
#[allow(clippy::too_many_arguments)]
async fn create_draft(
    state: &web::Data<AppState>,
    user: crate::db::users::User,
    service: &RoutableService,
    level: Level,
    place: Place,
    (rule, office): (Rule, Office),
    given: BTreeMap<String, String>,
) -> Result<String, AppError> {
    let public_id = new_public_id();
    let service_id = service.id;
    let (code, name) = (service.code.clone(), service.name.clone());
    let id = public_id.clone();
    with_db(state, "start a draft", move |conn| {
        let (version, def) = forms::current(conn, service_id, &code, &name)?;
        let known = |p: Prefill| -> Vec<String> {
            match p {
                Prefill::FullName => vec![user.full_name.clone()],
                Prefill::DateOfBirth => vec![
                    user.date_of_birth
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                ],
                Prefill::Cccd => vec![user.cccd.clone().unwrap_or_default()],
                Prefill::Phone => vec![user.phone.clone()],
                Prefill::Email => vec![user.email.clone()],
                Prefill::Address => vec![
                    user.province_code.clone().unwrap_or_default(),
                    user.ward_code.clone().unwrap_or_default(),
                    user.address.clone(),
                ],
            }
        };
        let applicant = dossiers::applicant_form();
        let mut answers = initial_answers(&applicant, &known);
        answers.extend(initial_answers(&def, &known));
        let keys: std::collections::BTreeSet<String> = applicant
            .fields()
            .chain(def.fields())
            .map(|f| f.key.clone())
            .collect();
        for (k, v) in given {
            // A field's own key, or a part of a composite one (`birthplace.province`).
            let base = k.split('.').next().unwrap_or("");
            if keys.contains(&k) || keys.contains(base) {
                answers.insert(k, v);
            }
        }
        drafts::create(
            conn,
            &NewDraft {
                public_id: &id,
                user_id: user.id,
                service_id,
                level,
                place: &place,
                agency_id: office.id,
                rule_id: Some(rule.id),
                form_version: version,
                state: &DraftState {
                    answers,
                    visited: Default::default(),
                    channel: None,
                },
                now: now(),
            },
        )?;
        Ok(())
    })
    .await?;
    Ok(public_id)
}

/// What an API client asks to start (Open311 `POST requests`).
pub struct ApiStart {
    pub code: String,
    pub level: String,
    pub province: String,
    pub ward: String,
    pub answers: BTreeMap<String, String>,
}

/// Starts a draft for an API client's account (the place from the request, else the
/// account's); the draft's public id, or the message key of why not.
pub async fn start_for_api(
    state: &web::Data<AppState>,
    user: crate::db::users::User,
    a: ApiStart,
) -> Result<Result<String, &'static str>, AppError> {
    let r = match routing(state, a.code).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return Ok(Err("open311_unknown")),
        Err(e) => return Err(e),
    };
    if !r.online() {
        return Ok(Err("open311_unknown"));
    }
    let form = PlaceForm {
        level: a.level,
        province: if a.province.is_empty() {
            user.province_code.clone().unwrap_or_default()
        } else {
            a.province
        },
        ward: if a.ward.is_empty() {
            user.ward_code.clone().unwrap_or_default()
        } else {
            a.ward
        },
        ..Default::default()
    };
    let (level, place, errors) = check_place(state, &r, &form);
    let Some(level) = level.filter(|_| errors.is_empty()) else {
        return Ok(Err(errors
            .values()
            .next()
            .copied()
            .unwrap_or("apply_err_level")));
    };
    let Some(routed) = route(state, &r, level, &place).await? else {
        return Ok(Err("apply_no_office"));
    };
    create_draft(state, user, &r.service, level, place, routed, a.answers)
        .await
        .map(Ok)
}
