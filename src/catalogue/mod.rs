//! The public catalogue as citizens browse it: service summaries and records (also the JSON
//! API's schema), and the in-memory read model — filters, facets, sorting, paging, search —
//! rebuilt whenever the catalogue changes. Storage is `db::catalogue`; the rules it shares with
//! seeding (levels) are in `domain`.

pub mod places;

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::level;
use crate::domain::procedure::Procedure;
use serde_json::value::RawValue;

use crate::search::{Prepared, SearchDoc, SearchIndex, Synonym};

/// Implementing levels in the order of the state's hierarchy.
pub const TIERS: [&str; 4] = ["ministry", "province", "commune", "other"];

pub fn tier_rank(tier: &str) -> usize {
    TIERS.iter().position(|t| *t == tier).unwrap_or(TIERS.len())
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TimeLimit {
    pub amount: f64,
    /// `working_days`, `days`, `hours`, `months`, `years`, `other` or empty when the record gives none.
    pub unit: String,
}

/// What lists, filters and search need of a service.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceSummary {
    #[serde(skip)]
    pub id: i64,
    pub code: String,
    pub name: String,
    pub field: String,
    pub field_slug: String,
    pub ministry: String,
    pub ministry_code: String,
    pub implementing_agency: String,
    /// Key of the `agency` filter.
    pub agency_slug: String,
    pub implementing_levels: Vec<String>,
    pub target_groups: Vec<String>,
    #[serde(skip)]
    pub target_group_ids: Vec<i64>,
    /// 1–4 (Decree 43/2011); 4 = "toàn trình" (end-to-end online), 3 = "một phần" (partly online).
    pub online_level: i32,
    pub has_online: bool,
    /// The online channel's time limit, else the first channel's.
    pub processing: Option<TimeLimit>,
    /// The online channel's fee in VND when known (0 = free).
    pub fee_vnd: Option<i64>,
    pub result: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelInfo {
    /// `online`, `in_person` or `post`.
    pub channel: String,
    pub processing_time: Option<f64>,
    pub time_unit: Option<String>,
    pub time_unit_text: String,
    pub fee_vnd: Option<i64>,
    pub fee_text: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentInfo {
    pub name: String,
    pub form_template: String,
    pub originals: Option<i32>,
    pub copies: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentGroup {
    /// The case ("trường hợp") these documents are for; empty when the record has one list.
    pub case_name: String,
    pub documents: Vec<DocumentInfo>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LegalInfo {
    pub title: String,
    pub number: String,
}

/// Everything the national record holds about one procedure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceDetail {
    pub code: String,
    pub name: String,
    pub field: String,
    pub field_slug: String,
    pub ministry: String,
    pub ministry_code: String,
    pub implementing_agency: String,
    pub competent_agency: String,
    pub procedure_type: String,
    pub decision_number: String,
    pub implementing_levels: Vec<String>,
    pub target_groups: Vec<String>,
    pub steps: String,
    pub requirements: String,
    pub result_code: String,
    pub result: String,
    pub related_procedures: String,
    pub source_url: String,
    pub online_level: i32,
    pub has_online: bool,
    pub channels: Vec<ChannelInfo>,
    pub document_groups: Vec<DocumentGroup>,
    pub legal_basis: Vec<LegalInfo>,
    pub version: i32,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupItem {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub full_name: String,
    /// provinces: `municipality` | `province`; wards: `ward` | `commune` | `special_administrative_region`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetCount {
    pub code: String,
    pub name: String,
    pub count: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    Name,
    Code,
    Level,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "relevance" => Some(Sort::Relevance),
            "name" => Some(Sort::Name),
            "code" => Some(Sort::Code),
            "level" => Some(Sort::Level),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Name => "name",
            Sort::Code => "code",
            Sort::Level => "level",
        }
    }
}

pub const PER_PAGE_CHOICES: [usize; 4] = [10, 20, 50, 100];
pub const DEFAULT_PER_PAGE: usize = 20;
pub const MAX_QUERY_CHARS: usize = 200;

/// The raw query string of a list or search request: every value optional and untrusted.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawFilter {
    /// Free text: words, a procedure code, everyday phrasing; accents optional.
    pub q: Option<String>,
    /// Field (lĩnh vực) slug, e.g. `ho-tich`.
    pub field: Option<String>,
    /// Ministry code, e.g. `bo-tu-phap`.
    pub ministry: Option<String>,
    /// Implementing agency slug.
    pub agency: Option<String>,
    /// Implementing level: `ministry`, `province`, `commune`, `other`.
    pub tier: Option<String>,
    /// Online level 1–4 (4 = toàn trình, 3 = một phần).
    pub level: Option<String>,
    /// `1` to show only services that can be filed online.
    pub online: Option<String>,
    /// Target group id.
    pub group: Option<String>,
    /// `relevance` (default with q), `name` (default without), `code`, `level`.
    pub sort: Option<String>,
    /// 1-based page number.
    pub page: Option<String>,
    /// 10, 20, 50 or 100.
    pub per_page: Option<String>,
}

/// A filter value that was not understood and so not applied; the page says so.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Ignored {
    pub param: String,
    pub value: String,
}

/// A validated filter: only values the catalogue knows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filter {
    pub q: String,
    pub field: Option<String>,
    pub ministry: Option<String>,
    pub agency: Option<String>,
    pub tier: Option<String>,
    pub level: Option<i32>,
    pub online: bool,
    pub group: Option<i64>,
    pub sort: Option<Sort>,
    pub page: usize,
    pub per_page: usize,
}

impl Filter {
    /// The query string that reproduces this filter (page left out unless > 1), for links.
    pub fn to_query(&self, page: Option<usize>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q", self.q.clone()));
        }
        for (k, v) in [
            ("field", &self.field),
            ("ministry", &self.ministry),
            ("agency", &self.agency),
            ("tier", &self.tier),
        ] {
            if let Some(v) = v {
                pairs.push((k, v.clone()));
            }
        }
        if let Some(l) = self.level {
            pairs.push(("level", l.to_string()));
        }
        if self.online {
            pairs.push(("online", "1".into()));
        }
        if let Some(g) = self.group {
            pairs.push(("group", g.to_string()));
        }
        if let Some(s) = self.sort {
            pairs.push(("sort", s.as_str().into()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(("per_page", self.per_page.to_string()));
        }
        if let Some(p) = page.filter(|p| *p > 1) {
            pairs.push(("page", p.to_string()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
            && self.field.is_none()
            && self.ministry.is_none()
            && self.agency.is_none()
            && self.tier.is_none()
            && self.level.is_none()
            && !self.online
            && self.group.is_none()
    }
}

/// One row of a result page.
#[derive(Debug, Clone)]
pub struct ListItem<'a> {
    pub service: &'a ServiceSummary,
    pub score: Option<f32>,
    /// The service's name split and folded for highlighting (done once per catalogue).
    pub name_words: &'a Prepared,
    /// The service as the JSON API shows it (serialised once per catalogue).
    pub json: &'a RawValue,
}

#[derive(Debug, Clone)]
pub struct ListPage<'a> {
    pub items: Vec<ListItem<'a>>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub per_page: usize,
    pub sort: Sort,
    /// The folded words to highlight (query words, corrections, expansions); pages that show
    /// names highlight them with one [`crate::search::Highlighter`] for the whole page.
    pub terms: Vec<String>,
}

/// The whole public catalogue in memory, with its search index; rebuilt when `version` changes.
pub struct Catalogue {
    pub version: i64,
    pub services: Vec<ServiceSummary>,
    by_code: HashMap<String, usize>,
    index: SearchIndex,
    pub fields: Vec<FacetCount>,
    pub ministries: Vec<FacetCount>,
    pub agencies: Vec<FacetCount>,
    pub target_groups: Vec<FacetCount>,
    /// `level_counts[l]` = services at online level l (index 0 unused).
    pub level_counts: [usize; 5],
    pub tier_counts: Vec<FacetCount>,
    pub online_count: usize,
    /// Each service's position in name order (folded, so accents do not scatter names).
    name_rank: Vec<u32>,
    /// Each service's position in code order.
    code_rank: Vec<u32>,
    name_words: Vec<Prepared>,
    json: Vec<Box<RawValue>>,
}

/// `rank[i]` = the position of item `i` when ordered by `key`.
fn ranks<K: Ord>(n: usize, key: impl Fn(usize) -> K) -> Vec<u32> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_cached_key(|&i| key(i));
    let mut rank = vec![0u32; n];
    for (pos, i) in order.into_iter().enumerate() {
        rank[i] = pos as u32;
    }
    rank
}

fn facet<F: Fn(&ServiceSummary) -> Vec<(String, String)>>(
    services: &[ServiceSummary],
    key: F,
) -> Vec<FacetCount> {
    let mut counts: HashMap<String, FacetCount> = HashMap::new();
    for s in services {
        for (code, name) in key(s) {
            counts
                .entry(code.clone())
                .or_insert(FacetCount {
                    code,
                    name,
                    count: 0,
                })
                .count += 1;
        }
    }
    let mut v: Vec<FacetCount> = counts.into_values().collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    v
}

pub use crate::search::slugify;

/// The search document of a service: the one definition that production, the relevance tests
/// and the search benchmark all use.
pub fn search_doc(s: &ServiceSummary) -> SearchDoc {
    SearchDoc {
        code: s.code.clone(),
        name: s.name.clone(),
        field: s.field.clone(),
        ministry: s.ministry.clone(),
        agency: s.implementing_agency.clone(),
        result: s.result.clone(),
        target_groups: s.target_groups.clone(),
        implementing_levels: s.implementing_levels.clone(),
        online_level: s.online_level,
    }
}

/// One channel as the summary needs it: (channel, time, unit, fee).
pub type ChannelBrief = (String, Option<f64>, Option<String>, Option<i64>);

/// The headline time limit and fee of a service: the online channel's where there is one (that
/// is what a citizen applying here gets), else the first channel's.
pub fn headline(channels: &[ChannelBrief]) -> (Option<TimeLimit>, Option<i64>) {
    let pick = channels
        .iter()
        .find(|c| c.0 == "online")
        .or_else(|| channels.first());
    let processing = pick.and_then(|c| {
        c.1.map(|amount| TimeLimit {
            amount,
            unit: c.2.clone().unwrap_or_default(),
        })
    });
    (processing, pick.and_then(|c| c.3))
}

/// The summary a freshly seeded database holds for a seed record (levels derived as seeding
/// derives them; target group ids numbered in order of appearance). For the relevance tests and
/// the search benchmark, which search the seed without a database.
pub fn summaries_of_procedures(procs: &[Procedure]) -> Vec<ServiceSummary> {
    let mut group_ids: HashMap<&str, i64> = HashMap::new();
    procs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut implementing_levels: Vec<String> = Vec::new();
            for l in &p.implementing_levels {
                if !implementing_levels.contains(l) {
                    implementing_levels.push(l.clone());
                }
            }
            implementing_levels.sort_by_key(|l| tier_rank(l));
            let mut groups: Vec<(i64, String)> = Vec::new();
            for g in &p.target_groups {
                let next = group_ids.len() as i64 + 1;
                let id = *group_ids.entry(g.as_str()).or_insert(next);
                if !groups.iter().any(|(gid, _)| *gid == id) {
                    groups.push((id, g.clone()));
                }
            }
            groups.sort();
            let channels: Vec<ChannelBrief> = p
                .channels
                .iter()
                .map(|c| {
                    (
                        c.channel.clone(),
                        c.processing_time,
                        c.time_unit.clone(),
                        c.fee_vnd,
                    )
                })
                .collect();
            let (processing, fee_vnd) = headline(&channels);
            ServiceSummary {
                id: i as i64 + 1,
                code: p.code.clone(),
                name: p.name.clone(),
                field: p.field.clone(),
                field_slug: slugify(&p.field),
                ministry: p.ministry.clone(),
                ministry_code: slugify(&p.ministry),
                agency_slug: slugify(&p.implementing_agency),
                implementing_agency: p.implementing_agency.clone(),
                implementing_levels,
                target_group_ids: groups.iter().map(|g| g.0).collect(),
                target_groups: groups.into_iter().map(|g| g.1).collect(),
                online_level: level::derive_level(&p.channels),
                has_online: level::has_online_channel(&p.channels),
                processing,
                fee_vnd,
                result: p.result.clone(),
            }
        })
        .collect()
}

impl Catalogue {
    pub fn build(version: i64, services: Vec<ServiceSummary>, synonyms: &[Synonym]) -> Catalogue {
        let docs: Vec<SearchDoc> = services.iter().map(search_doc).collect();
        let index = SearchIndex::build(&docs, synonyms);
        let by_code = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.code.clone(), i))
            .collect();
        let fields = facet(&services, |s| vec![(s.field_slug.clone(), s.field.clone())]);
        let ministries = facet(&services, |s| {
            vec![(s.ministry_code.clone(), s.ministry.clone())]
        });
        let agencies = facet(&services, |s| {
            if s.implementing_agency.is_empty() {
                vec![]
            } else {
                vec![(s.agency_slug.clone(), s.implementing_agency.clone())]
            }
        });
        let target_groups = facet(&services, |s| {
            s.target_group_ids
                .iter()
                .zip(&s.target_groups)
                .map(|(id, n)| (id.to_string(), n.clone()))
                .collect()
        });
        let mut tier_counts = facet(&services, |s| {
            s.implementing_levels
                .iter()
                .map(|l| (l.clone(), l.clone()))
                .collect()
        });
        tier_counts.sort_by_key(|f| tier_rank(&f.code));
        let mut level_counts = [0usize; 5];
        for s in &services {
            if let Some(c) = level_counts.get_mut(s.online_level.clamp(0, 4) as usize) {
                *c += 1;
            }
        }
        let online_count = services.iter().filter(|s| s.has_online).count();
        let name_rank = ranks(services.len(), |i| {
            (
                crate::search::fold(&services[i].name),
                services[i].code.clone(),
            )
        });
        let code_rank = ranks(services.len(), |i| services[i].code.clone());
        let name_words = services.iter().map(|s| Prepared::new(&s.name)).collect();
        let json = services
            .iter()
            .map(|s| serde_json::value::to_raw_value(s).expect("a summary serialises"))
            .collect();
        Catalogue {
            name_rank,
            code_rank,
            name_words,
            json,
            version,
            services,
            by_code,
            index,
            fields,
            ministries,
            agencies,
            target_groups,
            level_counts,
            tier_counts,
            online_count,
        }
    }

    pub fn by_code(&self, code: &str) -> Option<&ServiceSummary> {
        self.by_code.get(code).map(|&i| &self.services[i])
    }

    pub fn index_memory_bytes(&self) -> usize {
        self.index.memory_bytes()
    }

    /// Checks every raw value against what the catalogue knows. Unknown values are dropped and
    /// reported, never an error: a shared link whose filter vanished still shows a sane list.
    pub fn parse_filter(&self, raw: &RawFilter) -> (Filter, Vec<Ignored>) {
        let mut ignored = Vec::new();
        let mut keep =
            |param: &str, value: &Option<String>, ok: &dyn Fn(&str) -> bool| -> Option<String> {
                let v = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
                if ok(v) {
                    Some(v.to_string())
                } else {
                    ignored.push(Ignored {
                        param: param.into(),
                        value: v.chars().take(60).collect(),
                    });
                    None
                }
            };
        let field = keep("field", &raw.field, &|v| {
            self.fields.iter().any(|f| f.code == v)
        });
        let ministry = keep("ministry", &raw.ministry, &|v| {
            self.ministries.iter().any(|f| f.code == v)
        });
        let agency = keep("agency", &raw.agency, &|v| {
            self.agencies.iter().any(|f| f.code == v)
        });
        let tier = keep("tier", &raw.tier, &|v| TIERS.contains(&v));
        let level = keep("level", &raw.level, &|v| matches!(v, "1" | "2" | "3" | "4"))
            .and_then(|v| v.parse().ok());
        let online = keep("online", &raw.online, &|v| {
            matches!(v, "1" | "true" | "0" | "false")
        })
        .is_some_and(|v| v == "1" || v == "true");
        let group = keep("group", &raw.group, &|v| {
            self.target_groups.iter().any(|f| f.code == v)
        })
        .and_then(|v| v.parse().ok());
        let sort =
            keep("sort", &raw.sort, &|v| Sort::parse(v).is_some()).and_then(|v| Sort::parse(&v));
        let per_page = keep("per_page", &raw.per_page, &|v| {
            v.parse().is_ok_and(|n| PER_PAGE_CHOICES.contains(&n))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_PER_PAGE);
        // A page number past the end is clamped later; garbage means the first page.
        let page = keep("page", &raw.page, &|v| {
            v.parse::<u64>().is_ok_and(|n| n >= 1)
        })
        .and_then(|v| v.parse::<u64>().ok())
        .map(|n| n.min(1_000_000) as usize)
        .unwrap_or(1);
        let q: String = raw
            .q
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_QUERY_CHARS)
            .collect::<String>()
            .trim()
            .to_string();
        (
            Filter {
                q,
                field,
                ministry,
                agency,
                tier,
                level,
                online,
                group,
                sort,
                page,
                per_page,
            },
            ignored,
        )
    }

    fn matches(&self, s: &ServiceSummary, f: &Filter) -> bool {
        f.field.as_ref().is_none_or(|v| &s.field_slug == v)
            && f.ministry.as_ref().is_none_or(|v| &s.ministry_code == v)
            && f.agency.as_ref().is_none_or(|v| &s.agency_slug == v)
            && f.tier
                .as_ref()
                .is_none_or(|v| s.implementing_levels.iter().any(|l| l == v))
            && f.level.is_none_or(|v| s.online_level == v)
            && (!f.online || s.has_online)
            && f.group.is_none_or(|g| s.target_group_ids.contains(&g))
    }

    /// Filters, searches, sorts and pages. The page number is clamped to the last page.
    pub fn list(&self, f: &Filter) -> ListPage<'_> {
        let searching = !f.q.is_empty();
        let (mut rows, terms): (Vec<(usize, Option<f32>)>, Vec<String>) = if searching {
            // Filter first, then rank and cut (see `SearchIndex::search_where`).
            let result = self
                .index
                .search_where(&f.q, |d| self.matches(&self.services[d], f));
            let rows = result.hits.iter().map(|h| (h.doc, Some(h.score))).collect();
            (rows, result.terms)
        } else {
            let rows = (0..self.services.len())
                .filter(|&i| self.matches(&self.services[i], f))
                .map(|i| (i, None))
                .collect();
            (rows, Vec::new())
        };
        let sort = match f.sort {
            Some(Sort::Relevance) if !searching => Sort::Name,
            Some(s) => s,
            None if searching => Sort::Relevance,
            None => Sort::Name,
        };
        // Orders are ranks computed once per catalogue: no name is folded per request.
        match sort {
            Sort::Relevance => {}
            Sort::Name => rows.sort_unstable_by_key(|(i, _)| self.name_rank[*i]),
            Sort::Code => rows.sort_unstable_by_key(|(i, _)| self.code_rank[*i]),
            Sort::Level => rows.sort_unstable_by_key(|(i, _)| {
                (
                    std::cmp::Reverse(self.services[*i].online_level),
                    self.code_rank[*i],
                )
            }),
        }
        let total = rows.len();
        let pages = total.div_ceil(f.per_page).max(1);
        let page = f.page.clamp(1, pages);
        let items = rows
            .into_iter()
            .skip((page - 1) * f.per_page)
            .take(f.per_page)
            .map(|(i, score)| ListItem {
                service: &self.services[i],
                score,
                name_words: &self.name_words[i],
                json: &self.json[i],
            })
            .collect();
        ListPage {
            items,
            total,
            page,
            pages,
            per_page: f.per_page,
            sort,
            terms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(id: i64, code: &str, name: &str, field: &str) -> ServiceSummary {
        ServiceSummary {
            id,
            code: code.into(),
            name: name.into(),
            field: field.into(),
            field_slug: slugify(field),
            ministry: "Bộ Tư pháp".into(),
            ministry_code: "bo-tu-phap".into(),
            implementing_agency: String::new(),
            agency_slug: String::new(),
            implementing_levels: vec!["commune".into()],
            target_groups: vec![],
            target_group_ids: vec![],
            online_level: 3,
            has_online: true,
            processing: None,
            fee_vnd: None,
            result: String::new(),
        }
    }

    /// A narrow field whose only match is weak next to another field's strong ones: with the
    /// field filter, that weak match is the best there is, and it is found.
    #[test]
    fn a_facet_filter_applies_before_weak_matches_are_cut() {
        let cat = Catalogue::build(
            1,
            vec![
                service(
                    1,
                    "1.000001",
                    "Đăng ký kết hôn có yếu tố nước ngoài",
                    "Hộ tịch",
                ),
                service(2, "1.000002", "Đăng ký kết hôn", "Hộ tịch"),
                service(
                    3,
                    "1.000003",
                    "Cấp thị thực cho người nước ngoài",
                    "Xuất nhập cảnh",
                ),
            ],
            &[],
        );
        let query = "đăng ký kết hôn có yếu tố nước ngoài";
        let all = cat.list(
            &cat.parse_filter(&RawFilter {
                q: Some(query.into()),
                ..Default::default()
            })
            .0,
        );
        assert!(
            all.items.iter().all(|i| i.service.code != "1.000003"),
            "without a filter the weak match is cut"
        );
        let (filter, ignored) = cat.parse_filter(&RawFilter {
            q: Some(query.into()),
            field: Some("xuat-nhap-canh".into()),
            ..Default::default()
        });
        assert!(ignored.is_empty());
        let narrow = cat.list(&filter);
        let codes: Vec<&str> = narrow
            .items
            .iter()
            .map(|i| i.service.code.as_str())
            .collect();
        assert_eq!(codes, ["1.000003"]);
    }

    #[test]
    fn summaries_of_seed_records_derive_levels_like_seeding() {
        let procs = crate::seed::read_procedures(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/procedures.jsonl.gz"),
        )
        .expect("seed");
        let summaries = summaries_of_procedures(&procs);
        assert_eq!(summaries.len(), procs.len());
        for (s, p) in summaries.iter().zip(&procs) {
            assert_eq!(
                s.online_level,
                level::derive_level(&p.channels),
                "{}",
                p.code
            );
            assert_eq!(search_doc(s).code, p.code);
        }
    }
}
