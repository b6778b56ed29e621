//! Routing (issue "applications" §2): which office handles a dossier. Rules are data
//! (`routing_rules`, seeded from `data/routing_rules.csv`, edited by administrators): each maps
//! an implementing level, optionally narrowed to a ministry, a field or one service, to a kind of
//! office; the most specific matching rule decides, and the place the citizen declares picks the
//! office of that kind (the ward's, the province's department, or the ministry itself).

use serde::Serialize;

/// The levels at which a procedure is implemented and a dossier can be filed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Level {
    Commune,
    Province,
    Ministry,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Level> {
        s.parse().ok()
    }

    /// What the citizen must say about where they file.
    pub fn needs(self) -> PlaceNeed {
        match self {
            Level::Commune => PlaceNeed::Ward,
            Level::Province => PlaceNeed::Province,
            Level::Ministry => PlaceNeed::Nothing,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceNeed {
    Ward,
    Province,
    Nothing,
}

/// The kind of office a rule sends dossiers to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Target {
    Ministry,
    ProvinceCommittee,
    Department,
    WardCommittee,
    WardPolice,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Target> {
        s.parse().ok()
    }

    /// The level whose place the target needs: a ward office needs a ward, and so on.
    pub fn level(self) -> Level {
        match self {
            Target::Ministry => Level::Ministry,
            Target::ProvinceCommittee | Target::Department => Level::Province,
            Target::WardCommittee | Target::WardPolice => Level::Commune,
        }
    }
}

/// One routing rule. `None` narrows nothing ("any ministry").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: i64,
    pub level: Level,
    pub ministry_id: Option<i64>,
    pub field_id: Option<i64>,
    pub service_code: Option<String>,
    pub target: Target,
    pub department_key: Option<String>,
}

impl Rule {
    /// How narrow the rule is: one service beats a field, which beats a ministry, which beats
    /// the level's default.
    pub fn specificity(&self) -> u8 {
        u8::from(self.service_code.is_some()) * 4
            + u8::from(self.field_id.is_some()) * 2
            + u8::from(self.ministry_id.is_some())
    }

    fn matches(&self, s: &ServiceKey, level: Level) -> bool {
        self.level == level
            && self.ministry_id.is_none_or(|m| m == s.ministry_id)
            && self.field_id.is_none_or(|f| f == s.field_id)
            && self.service_code.as_deref().is_none_or(|c| c == s.code)
    }
}

/// What rules look at in a service.
#[derive(Debug, Clone, Copy)]
pub struct ServiceKey<'a> {
    pub code: &'a str,
    pub field_id: i64,
    pub ministry_id: i64,
}

/// The rule that decides where `service` filed at `level` goes: the most specific match; among
/// equally specific ones, the oldest (lowest id), so the choice never depends on load order.
pub fn decide<'r>(rules: &'r [Rule], service: &ServiceKey, level: Level) -> Option<&'r Rule> {
    rules
        .iter()
        .filter(|r| r.matches(service, level))
        .max_by(|a, b| {
            a.specificity()
                .cmp(&b.specificity())
                .then_with(|| b.id.cmp(&a.id))
        })
}

/// The levels of `implementing` (the record's `implementing_levels`, which may also say
/// `other`) at which a dossier can be filed online: those a rule routes. Ordered nearest to the
/// citizen first.
pub fn filing_levels(rules: &[Rule], service: &ServiceKey, implementing: &[String]) -> Vec<Level> {
    let mut levels: Vec<Level> = implementing
        .iter()
        .filter_map(|l| Level::parse(l))
        .filter(|l| decide(rules, service, *l).is_some())
        .collect();
    levels.sort();
    levels.dedup();
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, level: Level, m: Option<i64>, f: Option<i64>, s: Option<&str>) -> Rule {
        Rule {
            id,
            level,
            ministry_id: m,
            field_id: f,
            service_code: s.map(str::to_string),
            target: Target::WardCommittee,
            department_key: None,
        }
    }

    const SVC: ServiceKey = ServiceKey {
        code: "1.001193",
        field_id: 10,
        ministry_id: 3,
    };

    #[test]
    fn the_most_specific_rule_wins_whatever_the_order() {
        let rules = vec![
            rule(1, Level::Commune, None, None, None),
            rule(2, Level::Commune, Some(3), None, None),
            rule(3, Level::Commune, Some(3), Some(10), None),
            rule(4, Level::Commune, None, None, Some("1.001193")),
            rule(5, Level::Commune, Some(9), None, None),
        ];
        for n in 0..rules.len() {
            let mut rotated = rules.clone();
            rotated.rotate_left(n);
            assert_eq!(
                decide(&rotated, &SVC, Level::Commune).map(|r| r.id),
                Some(4)
            );
        }
        let without_service: Vec<Rule> = rules.iter().filter(|r| r.id != 4).cloned().collect();
        assert_eq!(
            decide(&without_service, &SVC, Level::Commune).map(|r| r.id),
            Some(3)
        );
        let other_ministry = ServiceKey {
            ministry_id: 9,
            field_id: 11,
            code: "x",
        };
        assert_eq!(
            decide(&rules, &other_ministry, Level::Commune).map(|r| r.id),
            Some(5)
        );
        assert_eq!(decide(&rules, &SVC, Level::Province), None);
    }

    #[test]
    fn ties_go_to_the_oldest_rule() {
        let rules = vec![
            rule(7, Level::Commune, Some(3), None, None),
            rule(2, Level::Commune, Some(3), None, None),
        ];
        assert_eq!(decide(&rules, &SVC, Level::Commune).map(|r| r.id), Some(2));
    }

    #[test]
    fn filing_levels_are_the_routed_ones_nearest_first() {
        let rules = vec![
            rule(1, Level::Ministry, None, None, None),
            rule(2, Level::Commune, None, None, None),
        ];
        let implementing = vec![
            "ministry".to_string(),
            "other".to_string(),
            "province".to_string(),
            "commune".to_string(),
        ];
        assert_eq!(
            filing_levels(&rules, &SVC, &implementing),
            vec![Level::Commune, Level::Ministry]
        );
        assert!(filing_levels(&rules, &SVC, &["other".to_string()]).is_empty());
    }
}
