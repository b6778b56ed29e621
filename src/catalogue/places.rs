//! The administrative units as the forms need them, in memory: provinces, each one's wards, and
//! which province a ward is in (3,355 rows; they change only when the seed does).

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::db::schema::{provinces, wards};

#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Places {
    provinces: Vec<Unit>,
    wards: HashMap<String, Vec<Unit>>,
    ward_province: HashMap<String, String>,
    names: HashMap<String, String>,
}

impl Places {
    pub fn load(conn: &mut DbConnection) -> QueryResult<Places> {
        let provinces: Vec<(String, String)> = provinces::table
            .order(provinces::full_name)
            .select((provinces::code, provinces::full_name))
            .load(conn)?;
        let rows: Vec<(String, String, String)> = wards::table
            .order(wards::full_name)
            .select((wards::code, wards::full_name, wards::province_code))
            .load(conn)?;
        let mut p = Places::default();
        for (code, name) in provinces {
            p.names.insert(format!("p{code}"), name.clone());
            p.provinces.push(Unit { code, name });
        }
        for (code, name, province) in rows {
            p.names.insert(format!("w{code}"), name.clone());
            p.ward_province.insert(code.clone(), province.clone());
            p.wards
                .entry(province)
                .or_default()
                .push(Unit { code, name });
        }
        Ok(p)
    }

    pub fn provinces(&self) -> &[Unit] {
        &self.provinces
    }

    pub fn wards_of(&self, province: &str) -> &[Unit] {
        self.wards.get(province).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether the province exists and, given a ward, whether the ward is in it.
    pub fn exists(&self, province: &str, ward: Option<&str>) -> bool {
        match ward {
            None => self.names.contains_key(&format!("p{province}")),
            Some(w) => self.ward_province.get(w).is_some_and(|p| p == province),
        }
    }

    pub fn province_name(&self, code: &str) -> &str {
        self.names
            .get(&format!("p{code}"))
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn ward_name(&self, code: &str) -> &str {
        self.names
            .get(&format!("w{code}"))
            .map(String::as_str)
            .unwrap_or("")
    }
}
