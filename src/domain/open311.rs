//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>): the service list and service
//! definitions the portal offers, as the standard's own records, written as JSON (serde) or as
//! XML with the standard's element names. A service definition is generated from the form
//! schema: each shown field is an attribute with its datatype and, for choices, its values.

use serde::Serialize;

use super::form_schema::{FieldKind, FormDefinition};
use crate::i18n::Lang;

/// One entry of `services.{json,xml}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    /// The online level and the field, in words (the standard has no field for them).
    pub description: String,
    /// Every procedure has a form, so every one has a definition.
    pub metadata: bool,
    /// `batch`: a request becomes a dossier processed over days, not at once.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `level-3`/`level-4`, the field and the implementing levels, comma-separated.
    pub keywords: String,
    /// The field (lĩnh vực).
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Value {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    pub variable: bool,
    pub code: String,
    pub datatype: &'static str,
    pub required: bool,
    pub datatype_description: String,
    pub order: usize,
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

/// The datatype of a field kind (`string`, `number`, `datetime`, `text`, `singlevaluelist`,
/// `multivaluelist`), and a description of what it accepts.
pub fn datatype(kind: FieldKind) -> (&'static str, &'static str) {
    match kind {
        FieldKind::Text => ("string", ""),
        FieldKind::LongText => ("text", ""),
        FieldKind::Number => ("number", ""),
        FieldKind::Money => ("number", "VND"),
        FieldKind::Date => ("datetime", "YYYY-MM-DD"),
        FieldKind::Select | FieldKind::Radio => ("singlevaluelist", ""),
        FieldKind::Checkbox => ("multivaluelist", ""),
        FieldKind::Email => ("string", "email address"),
        FieldKind::Phone => ("string", "10-digit phone number"),
        FieldKind::Cccd => ("string", "12-digit personal identification number"),
        FieldKind::Address => ("string", "province code, ward code, street address"),
    }
}

/// The definition of a service from its form: every field in order, labels in `lang`.
pub fn definition(code: &str, form: &FormDefinition, lang: Lang) -> Definition {
    let attributes = form
        .fields()
        .enumerate()
        .map(|(i, f)| {
            let (datatype, description) = datatype(f.kind);
            Attribute {
                variable: true,
                code: f.key.clone(),
                datatype,
                required: f.required && f.when.is_none(),
                datatype_description: f
                    .help
                    .as_ref()
                    .map(|h| h.get(lang).to_string())
                    .unwrap_or_else(|| description.to_string()),
                order: i + 1,
                description: f.label.get(lang).to_string(),
                values: f
                    .options
                    .iter()
                    .map(|c| Value {
                        key: c.value.clone(),
                        name: c.label.get(lang).to_string(),
                    })
                    .collect(),
            }
        })
        .collect();
    Definition {
        service_code: code.to_string(),
        attributes,
    }
}

/// `text` escaped for an XML element's content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

pub fn services_xml(services: &[Service]) -> String {
    let mut out = String::from(XML_HEAD);
    out.push_str("<services>");
    for s in services {
        out.push_str("<service>");
        element(&mut out, "service_code", &s.service_code);
        element(&mut out, "service_name", &s.service_name);
        element(&mut out, "description", &s.description);
        element(
            &mut out,
            "metadata",
            if s.metadata { "true" } else { "false" },
        );
        element(&mut out, "type", s.kind);
        element(&mut out, "keywords", &s.keywords);
        element(&mut out, "group", &s.group);
        out.push_str("</service>");
    }
    out.push_str("</services>\n");
    out
}

pub fn definition_xml(d: &Definition) -> String {
    let mut out = String::from(XML_HEAD);
    out.push_str("<service_definition>");
    element(&mut out, "service_code", &d.service_code);
    out.push_str("<attributes>");
    for a in &d.attributes {
        out.push_str("<attribute>");
        element(
            &mut out,
            "variable",
            if a.variable { "true" } else { "false" },
        );
        element(&mut out, "code", &a.code);
        element(&mut out, "datatype", a.datatype);
        element(
            &mut out,
            "required",
            if a.required { "true" } else { "false" },
        );
        element(&mut out, "datatype_description", &a.datatype_description);
        element(&mut out, "order", &a.order.to_string());
        element(&mut out, "description", &a.description);
        if !a.values.is_empty() {
            out.push_str("<values>");
            for v in &a.values {
                out.push_str("<value>");
                element(&mut out, "key", &v.key);
                element(&mut out, "name", &v.name);
                out.push_str("</value>");
            }
            out.push_str("</values>");
        }
        out.push_str("</attribute>");
    }
    out.push_str("</attributes></service_definition>\n");
    out
}

/// The standard's error answer: `[{"code": 404, "description": "…"}]` or `<errors>`.
pub fn errors_xml(code: u16, description: &str) -> String {
    let mut out = String::from(XML_HEAD);
    out.push_str("<errors><error>");
    element(&mut out, "code", &code.to_string());
    element(&mut out, "description", description);
    out.push_str("</error></errors>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(
            escape("a<b & \"c\" 'd'\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;"
        );
        let x = services_xml(&[Service {
            service_code: "1.001193".into(),
            service_name: "Đăng ký khai sinh <test>".into(),
            description: "Mức độ 4".into(),
            metadata: true,
            kind: "batch",
            keywords: "level-4".into(),
            group: "Hộ tịch".into(),
        }]);
        assert!(x.contains("<service_name>Đăng ký khai sinh &lt;test&gt;</service_name>"));
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service>"));
        assert!(errors_xml(404, "x").contains("<errors><error><code>404</code>"));
    }
}
