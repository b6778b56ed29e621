//! The query-independent prior: how likely a citizen is to mean this procedure at all.
//!
//! Most searches on a public portal come from individuals looking for the handful of civil-status,
//! residence, land, ID, driving-licence and tax procedures done at the commune or province one-stop
//! desk; the catalogue is dominated by rare ministry-level procedures for banks, customs brokers or
//! airlines. When two procedures match the query about equally well, the citizen-facing one should
//! win.
//!
//! The prior is a sum of signals read from the document's own fields, clamped to `[0, 1]`:
//!
//! - +0.30 if a target group is individuals: "Công dân …", "… cá nhân", "Người Việt Nam …", "hộ gia
//!   đình"; −0.30 if the only target groups are internal: "Cán bộ, công chức, viên chức", "Đảng
//!   viên", "Tổ chức Đảng";
//! - +0.25 if done at commune level (the local one-stop desk), otherwise +0.10 at province level;
//! - +0.25 if the field is an everyday one ([`COMMON_FIELDS`]: Hộ tịch, cư trú, Đất đai, Đường bộ,
//!   Chứng thực, Lý lịch tư pháp, Thuế, căn cước, xuất nhập cảnh, BHXH …);
//! - −0.10 if the name marks a special case of a common procedure ([`SPECIAL_CASE_MARKERS`]: "có
//!   yếu tố nước ngoài", "lưu động", "(thực hiện tại cấp trung ương)" …);
//! - −0.20 if the name marks an internal or inter-agency procedure ([`INTERNAL_MARKERS`]: "nội bộ",
//!   "cán bộ", "công chức", "giữa các cơ quan" …);
//! - +0.05 at online level 3 or 4 (can be done on the portal).
//!
//! In the final score the prior weighs about as much as the difference between a short and a long
//! name matching the same words, and far less than one query word missing, so it orders near-ties
//! and never overrides a clearly better text match.

use super::SearchDoc;
use super::text::fold;

/// Folded substrings of the `field` of everyday procedures.
pub const COMMON_FIELDS: &[&str] = &[
    "ho tich",
    "cu tru",
    "dat dai",
    "duong bo",
    "chung thuc",
    "ly lich tu phap",
    "thue",
    "can cuoc",
    "xuat nhap canh",
    "lai xe",
    "bhxh",
    "bhyt",
    "bao hiem",
    "phuong tien giao thong",
    "hoat dong xay dung",
    "con nuoi",
    "ho kinh doanh",
    "nha o",
    "tro giup phap ly",
    "dinh danh",
    "thanh lap va hoat dong cua doanh nghiep",
];

/// Folded substrings of names that mark a rarer variant of an everyday procedure.
pub const SPECIAL_CASE_MARKERS: &[&str] = &[
    "co yeu to nuoc ngoai",
    "khu vuc bien gioi",
    "luu dong",
    "thuc hien tai cap trung uong",
];

/// Folded substrings of names that mark internal or inter-agency procedures.
pub const INTERNAL_MARKERS: &[&str] = &[
    "noi bo",
    "can bo",
    "cong chuc",
    "vien chuc",
    "giua cac co quan",
    "cap tren",
];

const CITIZEN_GROUPS: &[&str] = &["cong dan", "ca nhan", "nguoi viet nam", "ho gia dinh"];
const INTERNAL_GROUPS: &[&str] = &["can bo cong chuc vien chuc", "dang vien", "to chuc dang"];

/// Prior in `[0, 1]` for one document (see the module doc for the table).
pub fn prior(doc: &SearchDoc) -> f32 {
    let groups: Vec<String> = doc.target_groups.iter().map(|g| fold(g)).collect();
    prior_folded(doc, &fold(&doc.name), &fold(&doc.field), &groups)
}

/// [`prior`] with the name, field and target groups already folded (the index build has them).
pub fn prior_folded<S: AsRef<str>>(doc: &SearchDoc, name: &str, field: &str, groups: &[S]) -> f32 {
    let mut p = 0.0f32;
    if groups
        .iter()
        .any(|g| CITIZEN_GROUPS.iter().any(|c| g.as_ref().contains(c)))
    {
        p += 0.30;
    } else if !groups.is_empty()
        && groups
            .iter()
            .all(|g| INTERNAL_GROUPS.iter().any(|c| g.as_ref().contains(c)))
    {
        p -= 0.30;
    }
    if doc.implementing_levels.iter().any(|l| l == "commune") {
        p += 0.25;
    } else if doc.implementing_levels.iter().any(|l| l == "province") {
        p += 0.10;
    }
    if COMMON_FIELDS.iter().any(|f| field.contains(f)) {
        p += 0.25;
    }
    if SPECIAL_CASE_MARKERS.iter().any(|m| name.contains(m)) {
        p -= 0.10;
    }
    if INTERNAL_MARKERS.iter().any(|m| name.contains(m)) {
        p -= 0.20;
    }
    if doc.online_level >= 3 {
        p += 0.05;
    }
    p.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citizen_commune_beats_internal_ministry() {
        let citizen = SearchDoc {
            name: "Thủ tục đăng ký khai sinh".into(),
            field: "Hộ tịch".into(),
            target_groups: vec!["Công dân Việt Nam".into()],
            implementing_levels: vec!["commune".into()],
            online_level: 4,
            ..Default::default()
        };
        let internal = SearchDoc {
            name: "Bổ nhiệm cán bộ".into(),
            field: "Tổ chức".into(),
            target_groups: vec!["Cán bộ, công chức, viên chức".into()],
            implementing_levels: vec!["ministry".into()],
            online_level: 1,
            ..Default::default()
        };
        assert!((prior(&citizen) - 0.85).abs() < 1e-6);
        assert_eq!(prior(&internal), 0.0);
        let foreign = SearchDoc {
            name: "Thủ tục đăng ký khai sinh có yếu tố nước ngoài".into(),
            ..citizen.clone()
        };
        assert!(prior(&foreign) < prior(&citizen));
    }
}
