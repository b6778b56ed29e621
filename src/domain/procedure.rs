//! The national procedure record as the seed data carries it (`data/procedures.jsonl.gz`).
//! Pure types: reading the file lives in `crate::seed`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    pub field: String,
    pub ministry: String,
    pub implementing_levels: Vec<String>,
    pub procedure_type: String,
    pub target_groups: Vec<String>,
    pub decision_number: String,
    pub implementing_agency: String,
    pub competent_agency: String,
    pub channels: Vec<Channel>,
    pub documents: Vec<Document>,
    pub documents_text: String,
    pub steps: String,
    pub requirements: String,
    pub legal_basis: Vec<LegalBasis>,
    pub result_code: String,
    pub result: String,
    pub related_procedures: String,
    pub source_url: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Channel {
    /// `online`, `in_person` or `post`.
    pub channel: String,
    pub processing_time: Option<f64>,
    /// `working_days`, `days`, `hours`, `months`, `years`, `other`, or none.
    pub time_unit: Option<String>,
    pub time_unit_text: String,
    pub fee_vnd: Option<i64>,
    pub fee_text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Document {
    pub name: String,
    pub form_template: String,
    pub originals: Option<i32>,
    pub copies: Option<i32>,
    pub case: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct LegalBasis {
    pub title: String,
    pub number: String,
}
