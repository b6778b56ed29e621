//! The scoreboard's catalogue indicators (shared/domain.md §7): per group (a ministry, or the
//! whole portal), how many procedures are offered online (level 3 or 4), fully online (level 4),
//! and of those that charge a fee, how many take it online (level 4 with a known fee above 0).
//! Pure counting; the counts are shown beside every share.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueRow {
    pub key: String,
    pub name: String,
    pub total: usize,
    pub online: usize,
    pub full: usize,
    pub fee_charging: usize,
    pub fee_online: usize,
}

impl CatalogueRow {
    fn new(key: &str, name: &str) -> CatalogueRow {
        CatalogueRow {
            key: key.to_string(),
            name: name.to_string(),
            total: 0,
            online: 0,
            full: 0,
            fee_charging: 0,
            fee_online: 0,
        }
    }

    fn add(&mut self, level: i32, fee: Option<i64>) {
        self.total += 1;
        self.online += usize::from(level >= 3);
        self.full += usize::from(level == 4);
        let charging = fee.is_some_and(|f| f > 0);
        self.fee_charging += usize::from(charging);
        self.fee_online += usize::from(charging && level == 4);
    }
}

/// A share in percent with one decimal (0 when there is nothing to divide).
pub fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// One row per group (in the order first met) and the portal's row last. Input: (group key,
/// group name, online level, online fee) per procedure.
pub fn catalogue<'a>(
    services: impl Iterator<Item = (&'a str, &'a str, i32, Option<i64>)>,
    portal_name: &str,
) -> Vec<CatalogueRow> {
    let mut rows: Vec<CatalogueRow> = Vec::new();
    let mut all = CatalogueRow::new("", portal_name);
    for (key, name, level, fee) in services {
        let i = match rows.iter().position(|r| r.key == key) {
            Some(i) => i,
            None => {
                rows.push(CatalogueRow::new(key, name));
                rows.len() - 1
            }
        };
        rows[i].add(level, fee);
        all.add(level, fee);
    }
    rows.sort_by(|a, b| {
        share(b.online, b.total)
            .total_cmp(&share(a.online, a.total))
            .then(b.total.cmp(&a.total))
            .then(a.name.cmp(&b.name))
    });
    rows.push(all);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_shares_by_hand() {
        let input = [
            ("a", "Bộ A", 4, Some(0)),
            ("a", "Bộ A", 4, Some(50_000)),
            ("a", "Bộ A", 3, Some(20_000)),
            ("b", "Bộ B", 2, None),
            ("b", "Bộ B", 3, None),
        ];
        let rows = catalogue(input.iter().copied(), "Toàn cổng");
        assert_eq!(rows.len(), 3);
        let a = &rows[0];
        assert_eq!((a.key.as_str(), a.total, a.online, a.full), ("a", 3, 3, 2));
        assert_eq!((a.fee_charging, a.fee_online), (2, 1));
        let b = &rows[1];
        assert_eq!((b.total, b.online, b.full, b.fee_charging), (2, 1, 0, 0));
        let all = &rows[2];
        assert_eq!(
            (
                all.total,
                all.online,
                all.full,
                all.fee_charging,
                all.fee_online
            ),
            (5, 4, 2, 2, 1)
        );
        assert_eq!(share(4, 5), 80.0);
        assert_eq!(share(1, 3), 33.3);
        assert_eq!(share(0, 0), 0.0);
    }
}
