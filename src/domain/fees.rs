//! Fees as applying meets them (domain.md §1, §5).

/// The fee a citizen pays online before the dossier is filed: only at level 4 (payment online is
/// what the level means), only a known fee above 0. Level 3 fees are paid at the office.
pub fn due_at_filing(online_level: i32, online_fee: Option<i64>) -> i64 {
    if online_level < 4 {
        return 0;
    }
    online_fee.unwrap_or(0).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_level_4_with_a_known_fee_pays_online() {
        assert_eq!(due_at_filing(4, Some(10_000)), 10_000);
        assert_eq!(due_at_filing(4, Some(0)), 0);
        assert_eq!(due_at_filing(4, None), 0);
        assert_eq!(
            due_at_filing(3, Some(10_000)),
            0,
            "level 3: paid at the office"
        );
    }
}
