//! Paying a fee online (level 4): the redirect to the gateway, the gateway's server-to-server
//! IPN (the only thing that marks a payment paid; a draft whose fee is due at filing is
//! submitted in the same transaction), the informational browser return, and — when the
//! sandbox plays the gateway — the sandbox bank's page, which calls the IPN over HTTP.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::account::page;
use super::apply::{draft_path, load, money, now, require_citizen, submitted_email, with_context};
use super::auth::{Authenticated, check_csrf, client_ip, current_user};
use super::redirect::see_other;
use super::{AppState, lang_of, with_db};
use crate::db::dossiers;
use crate::db::payments::{self, NewPayment, PaymentStatus};
use crate::domain::calendar;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::payments::{self as gateway, PaymentRequest, rsp};

fn secret(state: &AppState) -> Result<String, AppError> {
    state
        .settings
        .payment
        .hash_secret
        .clone()
        .ok_or(AppError::BadRequest("payment_not_configured"))
}

pub(crate) fn new_reference() -> String {
    let day = calendar::to_local(now()).format("%y%m%d");
    let bytes: [u8; 5] = rand::random();
    format!("P{day}{}", data_encoding::BASE32_NOPAD.encode(&bytes))
}

/// POST `/drafts/{id}/pay`: a payment for the fee, and off to the gateway.
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    id: web::Path<String>,
    body: web::Form<crate::web::auth::CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    require_citizen(&s)?;
    let secret = secret(&state)?;
    let id = id.into_inner();
    let user_id = s.user.id;
    let st = state.clone();
    let draft_public = id.clone();
    let started = with_db(&state, "start a payment", move |conn| {
        crate::db::transaction(conn, |conn| {
            let l = load(conn, &draft_public, user_id)?;
            if l.fee_due <= 0 {
                return Err(AppError::NotFound);
            }
            if l.locked() {
                return Ok(None);
            }
            let complete = with_context(&st, |ctx| {
                dossiers::check_draft(conn, &l.draft, &l.form, ctx)
            })?;
            if complete.is_err() {
                return Ok(None);
            }
            let reference = new_reference();
            payments::create(
                conn,
                &NewPayment {
                    reference: &reference,
                    draft_id: Some(l.draft.id),
                    dossier_id: None,
                    user_id,
                    amount_vnd: l.fee_due,
                    gateway: "vnpay",
                    now: now(),
                },
            )?;
            Ok(Some((reference, l.fee_due, l.service_name)))
        })
    })
    .await?;
    let Some((reference, amount, service_name)) = started else {
        // Incomplete or already paid: the check page says what to do.
        return Ok(see_other(&draft_path(&id, "check")));
    };
    let info = format!("Le phi ho so {service_name}")
        .chars()
        .take(200)
        .collect::<String>();
    let url = gateway::payment_url(
        &state.settings.payment,
        &secret,
        &PaymentRequest {
            reference: &reference,
            amount_vnd: amount,
            order_info: &info,
            client_ip: &client_ip(&req),
            created_local: calendar::to_local(now()),
        },
    );
    Ok(see_other(&url))
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

#[derive(Serialize)]
struct IpnAnswer {
    #[serde(rename = "RspCode")]
    rsp_code: &'static str,
    #[serde(rename = "Message")]
    message: &'static str,
}

fn ipn_answer(code: &'static str) -> HttpResponse {
    let message = match code {
        rsp::CONFIRMED => "Confirm Success",
        rsp::NOT_FOUND => "Order not found",
        rsp::ALREADY_CONFIRMED => "Order already confirmed",
        rsp::INVALID_AMOUNT => "Invalid amount",
        rsp::INVALID_SIGNATURE => "Invalid signature",
        _ => "Unknown error",
    };
    HttpResponse::Ok().json(IpnAnswer {
        rsp_code: code,
        message,
    })
}

/// GET `/payments/vnpay/ipn`: the gateway's notification, server to server. Idempotent; every
/// notification is logged with what it did.
pub async fn ipn(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let params = query_pairs(&req);
    let payload: String = req.query_string().chars().take(4000).collect();
    let reference = params
        .iter()
        .find(|(k, _)| k == "vnp_TxnRef")
        .map(|(_, v)| v.chars().take(64).collect::<String>())
        .unwrap_or_default();
    let Some(secret) = state.settings.payment.hash_secret.clone() else {
        return Ok(ipn_answer(rsp::UNKNOWN));
    };
    if !gateway::verify(&secret, &params) {
        with_db(&state, "log a forged payment notification", move |conn| {
            payments::log(conn, &reference, "bad_signature", &payload, now())?;
            Ok(())
        })
        .await?;
        tracing::warn!("payment notification with a bad signature refused");
        return Ok(ipn_answer(rsp::INVALID_SIGNATURE));
    }
    let Some(n) = gateway::read_notification(&params) else {
        with_db(
            &state,
            "log a malformed payment notification",
            move |conn| {
                payments::log(conn, &reference, "malformed", &payload, now())?;
                Ok(())
            },
        )
        .await?;
        return Ok(ipn_answer(rsp::UNKNOWN));
    };
    let st = state.clone();
    let code = with_db(&state, "apply a payment notification", move |conn| {
        let places = |pr: &str, w: Option<&str>| st.places.exists(pr, w);
        let email = |s: &dossiers::Submitted| submitted_email(&st, Lang::Vi, s);
        let status_email = |d: &dossiers::Dossier, s: crate::domain::status::Status| {
            crate::mail::dossier_status(
                &st.tera,
                &st.messages,
                &st.settings.public_url,
                Lang::Vi,
                d,
                s,
                "",
            )
        };
        match payments::apply_and_file(conn, &n, &payload, now(), &places, &email, &status_email) {
            Ok(applied) => Ok(applied.rsp),
            Err(dossiers::SubmitError::Db(e)) => Err(AppError::Internal(e)),
            Err(other) => Err(AppError::Internal(anyhow::anyhow!("{other:?}"))),
        }
    })
    .await?;
    Ok(ipn_answer(code))
}

/// GET `/payments/vnpay/return`: where the browser lands; it only shows, never decides.
pub async fn return_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
) -> Result<HttpResponse, AppError> {
    let params = query_pairs(&req);
    let reference = params
        .iter()
        .find(|(k, _)| k == "vnp_TxnRef")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let user_id = s.user.id;
    let found = with_db(&state, "show a payment", move |conn| {
        let Some(p) = payments::find(conn, &reference)? else {
            return Ok(None);
        };
        if p.user_id != user_id {
            return Ok(None);
        }
        // With its dossier: a filing fee (paid before the dossier existed) shows the receipt.
        let code = match p.dossier_id {
            Some(id) => match dossiers::code_of(conn, id)? {
                Some(c) => {
                    dossiers::find_by_code(conn, &c)?.map(|d| (c, p.created_at <= d.submitted_at))
                }
                None => None,
            },
            None => None,
        };
        let draft = match p.draft_id {
            Some(id) => crate::db::drafts::find(conn, id)?.map(|d| d.public_id),
            None => None,
        };
        Ok(Some((p, code, draft)))
    })
    .await?;
    let Some((p, code, draft)) = found else {
        return Err(AppError::NotFound);
    };
    if let Some((code, filing_fee)) = code {
        // A filing fee files the dossier (its receipt); a charge asked later returns to it.
        let fresh = if filing_fee { "?new=1" } else { "" };
        return Ok(see_other(&format!("/dossiers/{code}{fresh}")));
    }
    if p.status == PaymentStatus::Paid
        && let Some(d) = &draft
    {
        return Ok(see_other(&draft_path(d, "check")));
    }
    let lang = lang_of(&req);
    page(
        &state,
        &req,
        lang,
        "apply/payment.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("pending", &(p.status == PaymentStatus::Pending));
            ctx.insert("amount", &money(p.amount_vnd, lang));
            ctx.insert("reference", &p.reference);
            ctx.insert("draft", &draft);
            ctx.insert(
                "here",
                &format!("/payments/vnpay/return?{}", req.query_string()),
            );
        },
    )
}

/// GET `/sandbox/vnpay/pay`: the sandbox bank's page (it checks the merchant's signature, as the
/// real gateway does).
pub async fn sandbox_page(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    current_user(&state, &req).await?;
    let secret = secret(&state)?;
    let params = query_pairs(&req);
    if !gateway::verify(&secret, &params) {
        return Err(AppError::BadRequest("sandbox_bad_signature"));
    }
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let amount = get("vnp_Amount").parse::<i64>().unwrap_or(0) / 100;
    let lang = lang_of(&req);
    page(
        &state,
        &req,
        lang,
        "sandbox/bank.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("params", &params);
            ctx.insert("amount", &money(amount, lang));
            ctx.insert("merchant", &get("vnp_TmnCode"));
            ctx.insert("info", &get("vnp_OrderInfo"));
            ctx.insert("reference", &get("vnp_TxnRef"));
        },
    )
}

/// POST `/sandbox/vnpay/pay`: the person approved or declined; the sandbox notifies the portal
/// over HTTP (IPN), then sends the browser back.
pub async fn sandbox_decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = body.into_inner();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    check_csrf(&req, &get("_csrf"))?;
    let secret = secret(&state)?;
    let request: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k.starts_with("vnp_"))
        .cloned()
        .collect();
    if !gateway::verify(&secret, &request) {
        return Err(AppError::BadRequest("sandbox_bad_signature"));
    }
    let approved = get("decision") == "approve";
    let txn: u64 = rand::random::<u64>() % 100_000_000;
    sandbox_ledger()
        .lock()
        .map_err(|_| AppError::Unavailable)?
        .insert(
            get("vnp_TxnRef"),
            SandboxTxn {
                approved,
                amount: get("vnp_Amount"),
                transaction_no: format!("{txn:08}"),
                order_info: get("vnp_OrderInfo"),
            },
        );
    let mut notify: Vec<(String, String)> = [
        ("vnp_TmnCode", get("vnp_TmnCode")),
        ("vnp_Amount", get("vnp_Amount")),
        ("vnp_BankCode", "NCB".to_string()),
        ("vnp_TxnRef", get("vnp_TxnRef")),
        ("vnp_OrderInfo", get("vnp_OrderInfo")),
        (
            "vnp_ResponseCode",
            if approved { "00" } else { "24" }.to_string(),
        ),
        (
            "vnp_TransactionStatus",
            if approved { "00" } else { "02" }.to_string(),
        ),
        ("vnp_TransactionNo", format!("{txn:08}")),
        (
            "vnp_PayDate",
            calendar::to_local(now()).format("%Y%m%d%H%M%S").to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let hash = gateway::sign(&secret, &notify);
    notify.push(("vnp_SecureHash".into(), hash));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(notify.iter())
        .finish();
    // Server to server, over HTTP, as the real gateway does.
    let ipn = format!("{}?{query}", state.settings.payment.ipn_url);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| AppError::Internal(e.into()))?;
    match client.get(&ipn).send().await {
        Ok(res) => {
            let answer: serde_json::Value = res.json().await.unwrap_or_default();
            tracing::info!(rsp = %answer["RspCode"], "sandbox bank: IPN delivered");
        }
        Err(e) => tracing::warn!(error = %e, "sandbox bank: the IPN call failed"),
    }
    let back = get("vnp_ReturnUrl");
    let back = super::redirect::safe_next(Some(&back), "/my");
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(see_other(&format!("{back}{sep}{query}")))
}

/// What the sandbox bank remembers of each transaction, for its query API.
struct SandboxTxn {
    approved: bool,
    amount: String,
    transaction_no: String,
    order_info: String,
}

fn sandbox_ledger() -> &'static std::sync::Mutex<std::collections::HashMap<String, SandboxTxn>> {
    static LEDGER: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, SandboxTxn>>,
    > = std::sync::OnceLock::new();
    LEDGER.get_or_init(Default::default)
}

/// POST `/sandbox/vnpay/query`: the sandbox bank's status query (`querydr`), signed both ways.
pub async fn sandbox_query(
    state: web::Data<AppState>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let secret = secret(&state)?;
    let q = body.into_inner();
    if !gateway::verify_fields(&secret, &q, &gateway::QUERY_FIELDS) {
        return Ok(HttpResponse::Ok().json(serde_json::json!({
            "vnp_ResponseCode": "97", "vnp_Message": "Invalid signature"
        })));
    }
    let reference = q["vnp_TxnRef"].as_str().unwrap_or("").to_string();
    let mut answer = {
        let ledger = sandbox_ledger().lock().map_err(|_| AppError::Unavailable)?;
        match ledger.get(&reference) {
            Some(t) => serde_json::json!({
                "vnp_ResponseId": q["vnp_RequestId"],
                "vnp_Command": "querydr",
                "vnp_ResponseCode": "00",
                "vnp_Message": "QueryDR Success",
                "vnp_TmnCode": q["vnp_TmnCode"],
                "vnp_TxnRef": reference,
                "vnp_Amount": t.amount,
                "vnp_BankCode": "NCB",
                "vnp_PayDate": "",
                "vnp_TransactionNo": t.transaction_no,
                "vnp_TransactionType": "01",
                "vnp_TransactionStatus": if t.approved { "00" } else { "02" },
                "vnp_OrderInfo": t.order_info,
                "vnp_PromotionCode": "",
                "vnp_PromotionAmount": "",
            }),
            None => serde_json::json!({
                "vnp_ResponseId": q["vnp_RequestId"],
                "vnp_Command": "querydr",
                "vnp_ResponseCode": "91",
                "vnp_Message": "Transaction not found",
                "vnp_TmnCode": q["vnp_TmnCode"],
                "vnp_TxnRef": reference,
            }),
        }
    };
    let hash = gateway::sign_fields(
        &secret,
        &gateway::json_fields(&answer, &gateway::ANSWER_FIELDS),
    );
    answer["vnp_SecureHash"] = serde_json::Value::String(hash);
    Ok(HttpResponse::Ok().json(answer))
}

/// POST `/dossiers/{code}/pay`: the charge an office asked for (status 6), through the same
/// gateway; the verified notification moves the dossier back to processing.
pub async fn pay_charge(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    code: web::Path<String>,
    body: web::Form<crate::web::auth::CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    require_citizen(&s)?;
    let secret = secret(&state)?;
    let code = crate::domain::dossier::DossierCode::parse(&code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let user_id = s.user.id;
    let c = code.clone();
    let charge = with_db(&state, "find a charge to pay", move |conn| {
        let d = dossiers::find_own(conn, &c, user_id)?.ok_or(AppError::NotFound)?;
        if d.status != crate::domain::status::Status::PaymentRequested {
            return Ok(None);
        }
        let names = dossiers::names(conn, &d)?;
        Ok(payments::pending_for_dossier(conn, d.id)?.map(|p| (p, names.1)))
    })
    .await?;
    let Some((p, service_name)) = charge else {
        return Ok(see_other(&format!("/dossiers/{code}")));
    };
    let info = format!("Phi ho so {code} {service_name}")
        .chars()
        .take(200)
        .collect::<String>();
    let url = gateway::payment_url(
        &state.settings.payment,
        &secret,
        &PaymentRequest {
            reference: &p.reference,
            amount_vnd: p.amount_vnd,
            order_info: &info,
            client_ip: &client_ip(&req),
            created_local: calendar::to_local(now()),
        },
    );
    Ok(see_other(&url))
}
