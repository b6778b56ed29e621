//! The desk's printed forms (domain.md §3): 01 receipt slip with the promised date, 02
//! supplement request, 03 refusal, 04 apology with the new date. Each is a print view (HTML with
//! a print stylesheet) and a PDF of the same lines; a form exists once its event does.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::db::dossiers;
use crate::db::workspace::{self, StaffEvent};
use crate::domain::dossier::DossierCode;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::pdf::{Document, Line};
use crate::web::account::page;
use crate::web::apply::local_time;
use crate::web::auth::StaffUser;
use crate::web::{AppState, lang_of, with_db};

/// The forms, by number: (number, title, the event it records).
pub const FORMS: [(&str, &str, &str); 4] = [
    ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "accept"),
    (
        "02",
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        "request_supplement",
    ),
    ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", "refuse"),
    (
        "04",
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "reschedule",
    ),
];

#[derive(Deserialize)]
pub struct FormQuery {
    #[serde(default)]
    format: String,
}

#[derive(Serialize)]
struct LineView {
    kind: &'static str,
    label: String,
    value: String,
}

fn limit_text(l: crate::domain::calendar::TimeLimit) -> String {
    use crate::domain::calendar::TimeLimit;
    match l {
        TimeLimit::WorkingDays(n) => format!("{n} ngày làm việc"),
        TimeLimit::Days(n) => format!("{n} ngày"),
        TimeLimit::Months(n) => format!("{n} tháng"),
        TimeLimit::WorkingHours(n) => format!("{n} giờ làm việc"),
    }
}

/// The lines of a form from the dossier and its event.
fn lines(
    number: &str,
    d: &dossiers::Dossier,
    service: &str,
    files: &[crate::db::attachments::Attachment],
    event: &StaffEvent,
) -> Vec<Line> {
    let t = |at| local_time(at, Lang::Vi);
    let mut v = vec![
        Line::Field("Mã hồ sơ".into(), d.code.clone()),
        Line::Field("Thủ tục".into(), service.to_string()),
        Line::Field("Người nộp".into(), d.applicant_name.clone()),
        Line::Field("Số điện thoại".into(), d.applicant_phone.clone()),
    ];
    match number {
        "01" => {
            v.push(Line::Field("Thời điểm nhận".into(), t(d.submitted_at)));
            v.push(Line::Field("Thời điểm tiếp nhận".into(), t(event.at)));
            v.push(Line::Field(
                "Thời hạn giải quyết".into(),
                dossiers::parse_time_limit(&d.time_limit)
                    .map(limit_text)
                    .unwrap_or_else(|| "Không quy định".into()),
            ));
            v.push(Line::Field(
                "Ngày hẹn trả kết quả".into(),
                d.due_at.map(t).unwrap_or_else(|| "—".into()),
            ));
            v.push(Line::Gap);
            v.push(Line::Text("Giấy tờ đã nhận:".into()));
            for (i, f) in files.iter().enumerate() {
                v.push(Line::Text(format!("{}. {}", i + 1, f.file_name)));
            }
        }
        "02" => {
            v.push(Line::Field("Ngày yêu cầu".into(), t(event.at)));
            v.push(Line::Gap);
            v.push(Line::Text(
                "Hồ sơ cần bổ sung, hoàn thiện các nội dung sau (một lần, đầy đủ):".into(),
            ));
            v.push(Line::Text(event.note.clone()));
            v.push(Line::Text(
                "Thời hạn giải quyết được tính lại từ khi nhận đủ hồ sơ.".into(),
            ));
        }
        "03" => {
            v.push(Line::Field("Ngày từ chối".into(), t(event.at)));
            v.push(Line::Gap);
            v.push(Line::Text("Lý do:".into()));
            v.push(Line::Text(event.note.clone()));
        }
        _ => {
            v.push(Line::Field(
                "Ngày hẹn mới".into(),
                d.due_at.map(t).unwrap_or_default(),
            ));
            v.push(Line::Gap);
            v.push(Line::Text(
                "Cơ quan xin lỗi vì hồ sơ không thể trả kết quả đúng hẹn. Lý do:".into(),
            ));
            v.push(Line::Text(event.note.clone()));
        }
    }
    v.push(Line::Gap);
    v.push(Line::Text(format!(
        "Tra cứu hồ sơ bằng mã {} tại Cổng Dịch vụ công.",
        d.code
    )));
    v
}

/// GET `/staff/dossiers/{code}/forms/{number}` (`?format=pdf` for the PDF).
pub async fn desk_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    path: web::Path<(String, String)>,
    q: web::Query<FormQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, number) = path.into_inner();
    let (number, title, action) = FORMS
        .iter()
        .copied()
        .find(|(n, _, _)| *n == number)
        .ok_or(AppError::NotFound)?;
    let code = DossierCode::parse(&code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let offices = staff.offices.clone();
    let (d, service, office, files, event) = with_db(&state, "print a desk form", move |conn| {
        let d = dossiers::find_by_code(conn, &code)?
            .filter(|d| offices.contains(&d.agency_id))
            .ok_or(AppError::NotFound)?;
        let (service_code, service_name, office) = dossiers::names(conn, &d)?;
        let event = workspace::staff_timeline(conn, d.id)?
            .into_iter()
            .rev()
            .find(|e| e.action == action)
            .ok_or(AppError::NotFound)?;
        let files = crate::db::attachments::of_dossier(conn, d.id)?;
        Ok((
            d,
            format!("{service_name} ({service_code})"),
            office,
            files,
            event,
        ))
    })
    .await?;
    let body = lines(number, &d, &service, &files, &event);
    if q.format == "pdf" {
        let doc = Document {
            title: format!("{title} – {}", d.code),
            office: office.clone(),
            lines: std::iter::once(Line::Title(title.to_string()))
                .chain(body)
                .collect(),
            qr: Some((
                format!(
                    "{}/track?code={}",
                    state.settings.public_url.trim_end_matches('/'),
                    d.code
                ),
                format!("Mẫu số {number}. Quét mã để tra cứu hồ sơ {}.", d.code),
            )),
        };
        let bytes = web::block(move || crate::pdf::render(&doc))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a desk form: {e}")))?;
        return Ok(HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"mau-{number}-{}.pdf\"", d.code),
            ))
            .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
            .body(bytes));
    }
    let view: Vec<LineView> = body
        .into_iter()
        .map(|l| match l {
            Line::Field(label, value) => LineView {
                kind: "field",
                label,
                value,
            },
            Line::Text(t) => LineView {
                kind: "text",
                label: String::new(),
                value: t,
            },
            Line::Title(t) => LineView {
                kind: "title",
                label: String::new(),
                value: t,
            },
            Line::Gap => LineView {
                kind: "gap",
                label: String::new(),
                value: String::new(),
            },
        })
        .collect();
    let lang = lang_of(&req);
    page(
        &state,
        &req,
        lang,
        "staff/desk_form.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("number", number);
            ctx.insert("title", title);
            ctx.insert("office", &office);
            ctx.insert("code", &d.code);
            ctx.insert("lines", &view);
        },
    )
}

/// The forms a dossier has (their events exist), for the dossier page's links.
pub fn available(events: &[StaffEvent]) -> Vec<(&'static str, &'static str)> {
    FORMS
        .iter()
        .filter(|(_, _, action)| events.iter().any(|e| e.action == *action))
        .map(|(n, t, _)| (*n, *t))
        .collect()
}
