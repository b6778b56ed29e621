//! Pages anyone can open without an account: home, catalogue and search, service pages, the
//! language switch, and the health probes.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::auth::current_user;
use super::redirect::{safe_next, see_other};
use super::view::{self, channel_key, class_key, fee_text, tier_key, time_text};
use super::{
    AppState, LANG_COOKIE, base_context, cache_hit, cached_page, lang_of, render_body, with_db,
};
use crate::catalogue::{Filter, RawFilter, TIERS};
use crate::db;
use crate::error::AppError;
use crate::i18n::Lang;

/// Parses a list or search query string. Lenient on encoding (bad `%` sequences pass through as
/// text) but a repeated or unparsable parameter is a clear 400.
pub fn parse_raw_filter(query: &str) -> Result<RawFilter, AppError> {
    serde_urlencoded::from_str::<RawFilter>(query)
        .map_err(|_| AppError::BadRequest("error_bad_query"))
}

#[derive(Serialize)]
struct LevelStat {
    level: i32,
    count_text: String,
    class: &'static str,
    label: String,
    desc: String,
}

pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    current_user(&state, &req).await?;
    let lang = lang_of(&req);
    cached_page(&state, &req, lang, || {
        let cat = state.catalogue();
        let m = &state.messages;
        let mut ctx = base_context(&state, &req, lang);
        ctx.insert("total", &cat.services.len());
        ctx.insert(
            "total_text",
            &view::group_digits(cat.services.len() as i64, lang),
        );
        ctx.insert("fields", &cat.fields);
        let levels: Vec<LevelStat> = (1..=4)
            .rev()
            .map(|l| LevelStat {
                level: l,
                count_text: view::group_digits(cat.level_counts[l as usize] as i64, lang),
                class: class_key(l),
                label: m.text(lang, class_key(l)).to_string(),
                desc: m.text(lang, &format!("level_{l}_desc")).to_string(),
            })
            .collect();
        ctx.insert("levels", &levels);
        ctx.insert(
            "audiences",
            &cat.target_groups.iter().take(6).collect::<Vec<_>>(),
        );
        ctx.insert(
            "online_count",
            &view::group_digits(cat.online_count as i64, lang),
        );
        let tiers: Vec<(String, String, usize)> = cat
            .tier_counts
            .iter()
            .map(|t| {
                (
                    t.code.clone(),
                    m.text(lang, tier_key(&t.code)).to_string(),
                    t.count,
                )
            })
            .collect();
        ctx.insert("tiers", &tiers);
        render_body(&state, "catalogue/home.html", &ctx)
    })
}

#[derive(Serialize)]
struct PageLink {
    number: usize,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct Chip {
    label: String,
    remove_href: String,
}

fn page_links(filter: &Filter, page: usize, pages: usize) -> Vec<PageLink> {
    let mut numbers: Vec<usize> = vec![1, pages];
    numbers.extend(page.saturating_sub(2).max(1)..=(page + 2).min(pages));
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .into_iter()
        .map(|n| PageLink {
            number: n,
            href: format!("/services?{}", filter.to_query(Some(n))),
            current: n == page,
        })
        .collect()
}

pub async fn catalogue(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    current_user(&state, &req).await?;
    let lang = lang_of(&req);
    let raw = parse_raw_filter(req.query_string())?;
    cached_page(&state, &req, lang, || {
        let cat = state.catalogue();
        let m = &state.messages;
        let (filter, ignored) = cat.parse_filter(&raw);
        let page = cat.list(&filter);
        let mut ctx = base_context(&state, &req, lang);
        ctx.insert("filter", &filter);
        ctx.insert("ignored", &ignored);
        ctx.insert("total", &page.total);
        ctx.insert("total_text", &view::group_digits(page.total as i64, lang));
        ctx.insert("page", &page.page);
        ctx.insert("pages", &page.pages);
        ctx.insert("sort", page.sort.as_str());
        ctx.insert("page_links", &page_links(&filter, page.page, page.pages));
        if page.page > 1 {
            ctx.insert(
                "prev_href",
                &format!("/services?{}", filter.to_query(Some(page.page - 1))),
            );
        }
        if page.page < page.pages {
            ctx.insert(
                "next_href",
                &format!("/services?{}", filter.to_query(Some(page.page + 1))),
            );
        }
        // A flag, not `{% if rows_html %}`: tera escapes a string it only tests for truth.
        ctx.insert("has_rows", &!page.items.is_empty());
        ctx.insert("rows_html", &view::result_rows_html(m, lang, &page));
        let options = state.facet_options(&cat);
        ctx.insert(
            "field_options",
            &options.fields.render(filter.field.as_deref()),
        );
        ctx.insert(
            "ministry_options",
            &options.ministries.render(filter.ministry.as_deref()),
        );
        // The agency list is long (hundreds): offer it once a ministry narrows it down.
        if let Some(ministry) = &filter.ministry {
            let mut under: Vec<&crate::catalogue::FacetCount> = cat
                .agencies
                .iter()
                .filter(|a| {
                    cat.services
                        .iter()
                        .any(|s| &s.ministry_code == ministry && s.agency_slug == a.code)
                })
                .collect();
            under.sort_by(|a, b| a.name.cmp(&b.name));
            ctx.insert("agencies", &under);
        } else {
            ctx.insert("agencies", &Vec::<()>::new());
        }
        let group = filter.group.map(|g| g.to_string());
        ctx.insert("group_options", &options.groups.render(group.as_deref()));
        let tiers: Vec<(String, String)> = TIERS
            .iter()
            .map(|t| (t.to_string(), m.text(lang, tier_key(t)).to_string()))
            .collect();
        ctx.insert("tiers", &tiers);
        let levels: Vec<(i32, String)> = (1..=4)
            .rev()
            .map(|l| {
                (
                    l,
                    format!(
                        "{} {l} · {}",
                        m.text(lang, "level"),
                        m.text(lang, class_key(l))
                    ),
                )
            })
            .collect();
        ctx.insert("levels", &levels);
        // Active filters as removable chips, each a link without that filter.
        let mut chips = Vec::new();
        let mut chip = |label: String, without: Filter| {
            chips.push(Chip {
                label,
                remove_href: format!("/services?{}", without.to_query(None)),
            })
        };
        if let Some(v) = &filter.field {
            let name = cat
                .fields
                .iter()
                .find(|f| &f.code == v)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            chip(
                name,
                Filter {
                    field: None,
                    ..filter.clone()
                },
            );
        }
        if let Some(v) = &filter.ministry {
            let name = cat
                .ministries
                .iter()
                .find(|f| &f.code == v)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            chip(
                name,
                Filter {
                    ministry: None,
                    ..filter.clone()
                },
            );
        }
        if let Some(v) = &filter.agency {
            let name = cat
                .agencies
                .iter()
                .find(|f| &f.code == v)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            chip(
                name,
                Filter {
                    agency: None,
                    ..filter.clone()
                },
            );
        }
        if let Some(v) = &filter.tier {
            chip(
                m.text(lang, tier_key(v)).to_string(),
                Filter {
                    tier: None,
                    ..filter.clone()
                },
            );
        }
        if let Some(l) = filter.level {
            chip(
                format!("{} {l}", m.text(lang, "level")),
                Filter {
                    level: None,
                    ..filter.clone()
                },
            );
        }
        if filter.online {
            chip(
                m.text(lang, "filter_online_only").to_string(),
                Filter {
                    online: false,
                    ..filter.clone()
                },
            );
        }
        if let Some(g) = filter.group {
            let name = cat
                .target_groups
                .iter()
                .find(|f| f.code == g.to_string())
                .map(|f| f.name.clone())
                .unwrap_or_default();
            chip(
                name,
                Filter {
                    group: None,
                    ..filter.clone()
                },
            );
        }
        ctx.insert("chips", &chips);
        render_body(&state, "catalogue/list.html", &ctx)
    })
}

/// A recorded change of a procedure in words for the public, or None for one that does not
/// concern applicants (an unpublished form version, an unpublication).
fn history_line(m: &crate::i18n::Messages, lang: Lang, detail: &str) -> Option<String> {
    let t = |k: &str| m.text(lang, k).to_string();
    if let Some(change) = detail.strip_prefix("online_level: ") {
        return Some(t("history_level").replace("{change}", change));
    }
    if detail == "published: false → true" {
        return Some(t("history_published"));
    }
    if let Some(v) = detail
        .strip_prefix("form version ")
        .and_then(|r| r.strip_suffix(" published"))
    {
        return Some(t("history_form").replace("{version}", v));
    }
    if let Some(channel) = detail
        .strip_prefix("channel ")
        .and_then(|r| r.split(':').next())
    {
        let label = t(&format!("channel_{channel}"));
        return Some(t("history_channel").replace("{channel}", &label));
    }
    if let Some(rest) = detail.strip_prefix("version ") {
        let (versions, fields) = rest.split_once(": ")?;
        let to = versions.rsplit(' ').next()?;
        let fields = fields.split(" (").next().unwrap_or("");
        let labels: Vec<String> = fields
            .split(", ")
            .map(|f| t(&format!("record_{f}")))
            .collect();
        return Some(
            t("history_text")
                .replace("{version}", to)
                .replace("{fields}", &labels.join(", ")),
        );
    }
    None
}

#[derive(Serialize)]
struct ChannelView {
    label: String,
    time: String,
    fee: String,
    fee_note: String,
}

pub async fn service(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let cat = state.catalogue();
    if cat.by_code(&code).is_none() {
        return Err(AppError::NotFound);
    }
    current_user(&state, &req).await?;
    let lang = lang_of(&req);
    // A cached page needs no database round trip.
    if let Some(res) = cache_hit(&state, &req, lang) {
        return Ok(res);
    }
    let (detail, changes) = with_db(&state, "load a service record", move |conn| {
        Ok((
            db::catalogue::load_detail(conn, &code)?,
            db::service_admin::public_history(conn, &code, 30)?,
        ))
    })
    .await?;
    let Some(detail) = detail else {
        return Err(AppError::NotFound);
    };
    cached_page(&state, &req, lang, || {
        let m = &state.messages;
        let mut ctx = base_context(&state, &req, lang);
        let channels: Vec<ChannelView> = detail
            .channels
            .iter()
            .map(|c| ChannelView {
                label: m.text(lang, channel_key(&c.channel)).to_string(),
                time: match c.processing_time {
                    Some(t) => time_text(m, lang, t, c.time_unit.as_deref().unwrap_or("")),
                    None if !c.time_unit_text.is_empty() => c.time_unit_text.clone(),
                    None => m.text(lang, "not_stated").to_string(),
                },
                fee: fee_text(m, lang, c.fee_vnd),
                fee_note: c.fee_text.clone(),
            })
            .collect();
        ctx.insert("s", &detail);
        ctx.insert("channels", &channels);
        ctx.insert("class", class_key(detail.online_level));
        ctx.insert("class_label", m.text(lang, class_key(detail.online_level)));
        ctx.insert(
            "level_desc",
            m.text(lang, &format!("level_{}_desc", detail.online_level)),
        );
        let tiers: Vec<&str> = detail
            .implementing_levels
            .iter()
            .map(|t| m.text(lang, tier_key(t)))
            .collect();
        ctx.insert("tiers", &tiers);
        let steps: Vec<&str> = detail
            .steps
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        ctx.insert("steps", &steps);
        let results: Vec<(String, String)> = {
            let names: Vec<&str> = detail.result.split("; ").collect();
            let codes: Vec<&str> = detail.result_code.split("; ").collect();
            names
                .iter()
                .enumerate()
                .filter(|(_, n)| !n.trim().is_empty())
                .map(|(i, n)| {
                    (
                        n.to_string(),
                        codes.get(i).map(|c| c.to_string()).unwrap_or_default(),
                    )
                })
                .collect()
        };
        ctx.insert("results", &results);
        let history: Vec<(String, String)> = changes
            .iter()
            .filter_map(|(at, d)| {
                history_line(m, lang, d).map(|line| (at.format("%d/%m/%Y").to_string(), line))
            })
            .collect();
        ctx.insert("history", &history);
        render_body(&state, "catalogue/service.html", &ctx)
    })
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    next: Option<String>,
}

pub async fn switch_lang(
    path: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::parse(&path).ok_or(AppError::NotFound)?;
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .max_age(CookieDuration::days(365))
        .same_site(SameSite::Lax)
        .http_only(true)
        .finish();
    // Only same-site paths are followed, so the switch cannot be used as an open redirect.
    let mut res = see_other(&safe_next(query.next.as_deref(), "/"));
    res.add_cookie(&cookie)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match with_db(&state, "ping the database", |conn| Ok(db::ping(conn)?)).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unreachable")
        }
    }
}
