//! Scheduled work, run by every worker (the web process's and `portal worker`), safe when
//! several run at once: reminders before a draft expires (each marked sent by a conditional
//! update, so one worker wins and one email goes out), the deletion of expired drafts
//! with their files, and the reconciliation of payments still pending after `RECONCILE_AFTER`
//! (the gateway's notification may have been lost): the gateway is asked, and its signed
//! answer is applied exactly as a notification would be (idempotent, so two workers asking
//! at once change the payment once).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{NaiveDateTime, Timelike};

use crate::db::{self, Pool, drafts, outbox};
use crate::i18n::Lang;
use crate::storage::Storage;

/// How often the jobs run.
pub const INTERVAL: Duration = Duration::from_secs(60);
const BATCH: i64 = 200;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub reminded: usize,
    pub expired: usize,
    /// Pending payments the gateway was asked about, and those it settled.
    pub queried: usize,
    pub settled: usize,
    /// Daily digests queued for office leads (by the one worker that claimed the day).
    pub digests: usize,
    /// Open dossiers whose due date passed, counted again for the scoreboard.
    pub swept: usize,
    /// Webhook deliveries made, and attempts that failed (to be tried again).
    pub webhooks_delivered: usize,
    pub webhooks_failed: usize,
}

/// The lead digest goes out on working days from this local hour.
pub const DIGEST_HOUR: u32 = 7;
/// Dossiers listed per section of a digest.
const DIGEST_ROWS: i64 = 50;

/// How long a payment may stay pending before the gateway is asked about it.
pub const RECONCILE_AFTER: chrono::Duration = chrono::Duration::minutes(15);
/// A payment the gateway does not know after this long is cancelled.
pub const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::hours(24);

pub struct Jobs {
    pub pool: Pool,
    pub tera: tera::Tera,
    pub storage: Arc<dyn Storage>,
    pub public_url: String,
    pub places: crate::catalogue::places::Places,
    pub gateway: crate::payments::GatewaySettings,
    pub messages: crate::i18n::Messages,
    /// Webhook deliveries: no redirects followed, 10 s at most per attempt.
    pub http: reqwest::Client,
    /// Opens the webhooks' sealed secrets.
    pub seal: crate::security::seal::SealKey,
}

/// Webhook deliveries sent per pass.
const WEBHOOK_BATCH: i64 = 100;

impl Jobs {
    pub fn new(pool: Pool, settings: &crate::config::Settings) -> Result<Arc<Jobs>> {
        let places = {
            let mut conn = pool.get().context("database connection")?;
            crate::catalogue::places::Places::load(&mut conn)?
        };
        Ok(Arc::new(Jobs {
            places,
            gateway: settings.payment.clone(),
            messages: crate::i18n::Messages::load(&settings.locales_dir)?,
            pool,
            tera: crate::startup::load_templates(settings)?,
            storage: crate::storage::from_settings(settings)?,
            public_url: settings.public_url.trim_end_matches('/').to_string(),
            http: Jobs::webhook_client()?,
            seal: settings.seal_key.clone(),
        }))
    }

    /// The client webhook deliveries are sent with.
    pub fn webhook_client() -> Result<reqwest::Client> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("public-service-portal-webhooks/1")
            .build()
            .context("the webhook client")
    }

    /// One pass of every job, at `now` (UTC): the database work on the blocking pool, then the
    /// expired drafts' files.
    pub async fn run_once(self: &Arc<Self>, now: NaiveDateTime) -> Result<Report> {
        let me = self.clone();
        let (report, keys) = tokio::task::spawn_blocking(move || me.database_pass(now))
            .await
            .context("the jobs' database pass")??;
        for key in keys {
            if let Err(e) = self.storage.delete(&key).await {
                tracing::warn!(error = %e, key, "an expired draft's file could not be removed");
            }
        }
        let mut report = report;
        self.reconcile(now, &mut report).await?;
        let (delivered, failed) = self.deliver_webhooks(now).await?;
        report.webhooks_delivered = delivered;
        report.webhooks_failed = failed;
        Ok(report)
    }

    /// Sends the webhook deliveries due at `now` (the oldest undelivered event of each webhook
    /// and dossier, claimed so no other worker sends it), each signed when it leaves; keeps
    /// every outcome. (delivered, failed).
    pub async fn deliver_webhooks(self: &Arc<Self>, now: NaiveDateTime) -> Result<(usize, usize)> {
        use crate::domain::webhook::{EVENT_HEADER, SIGNATURE_HEADER, sign};
        let me = self.clone();
        let due = tokio::task::spawn_blocking(move || -> Result<Vec<db::webhooks::Due>> {
            let mut conn = me.pool.get().context("database connection")?;
            Ok(db::webhooks::claim_due(
                &mut conn,
                &me.seal,
                now,
                WEBHOOK_BATCH,
            )?)
        })
        .await
        .context("claiming webhook deliveries")??;
        let (mut delivered, mut failed) = (0, 0);
        for d in due {
            let outcome = match &d.secret {
                None => Err("the webhook's secret cannot be opened with this seal key".to_string()),
                Some(secret) => {
                    let signature =
                        sign(secret, chrono::Utc::now().timestamp(), d.payload.as_bytes());
                    let sent = self
                        .http
                        .post(&d.url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(EVENT_HEADER, &d.event_id)
                        .header(SIGNATURE_HEADER, signature)
                        .body(d.payload.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(res) if res.status().is_success() => Ok(()),
                        Ok(res) => Err(format!("HTTP {}", res.status().as_u16())),
                        Err(e) => Err(format!("{e}")),
                    }
                }
            };
            if outcome.is_ok() {
                delivered += 1;
            } else {
                failed += 1;
            }
            let me = self.clone();
            tokio::task::spawn_blocking(move || -> Result<()> {
                let mut conn = me.pool.get().context("database connection")?;
                match outcome {
                    Ok(()) => db::webhooks::record_delivered(&mut conn, &d, now)?,
                    Err(e) => {
                        let next = crate::domain::webhook::RETRY.next_attempt(d.attempts + 1, now);
                        db::webhooks::record_failure(&mut conn, &d, &e, next, now)?
                    }
                }
                Ok(())
            })
            .await
            .context("recording a webhook delivery")??;
        }
        Ok((delivered, failed))
    }

    /// Asks the gateway about payments pending for longer than `RECONCILE_AFTER`.
    async fn reconcile(self: &Arc<Self>, now: NaiveDateTime, report: &mut Report) -> Result<()> {
        let (Some(secret), false) = (
            self.gateway.hash_secret.clone(),
            self.gateway.query_url.is_empty(),
        ) else {
            return Ok(());
        };
        let me = self.clone();
        let pending =
            tokio::task::spawn_blocking(move || -> Result<Vec<crate::db::payments::Payment>> {
                let mut conn = me.pool.get().context("database connection")?;
                Ok(crate::db::payments::pending_before(
                    &mut conn,
                    now - RECONCILE_AFTER,
                    BATCH,
                )?)
            })
            .await??;
        if pending.is_empty() {
            return Ok(());
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()?;
        let local = crate::domain::calendar::to_local;
        for p in pending {
            report.queried += 1;
            let q = crate::payments::query_request(
                &self.gateway,
                &secret,
                &p.reference,
                local(p.created_at),
                local(now),
            );
            let answer: serde_json::Value = match http
                .post(&self.gateway.query_url)
                .json(&q)
                .send()
                .await
            {
                Ok(res) => res.json().await.unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(error = %e, reference = %p.reference, "payment query failed");
                    continue;
                }
            };
            if !crate::payments::verify_fields(&secret, &answer, &crate::payments::ANSWER_FIELDS) {
                tracing::warn!(reference = %p.reference, "payment query answer with a bad signature");
                continue;
            }
            let me = self.clone();
            let payload = answer.to_string();
            let settled = tokio::task::spawn_blocking(move || -> Result<bool> {
                let mut conn = me.pool.get().context("database connection")?;
                match crate::payments::read_answer(&answer) {
                    Some(n) => {
                        let places = |pr: &str, w: Option<&str>| me.places.exists(pr, w);
                        let email = |s: &crate::db::dossiers::Submitted| {
                            crate::mail::dossier_submitted(&me.tera, &me.public_url, Lang::Vi, s)
                        };
                        let status_email =
                            |d: &crate::db::dossiers::Dossier, s: crate::domain::status::Status| {
                                crate::mail::dossier_status(
                                    &me.tera,
                                    &me.messages,
                                    &me.public_url,
                                    Lang::Vi,
                                    d,
                                    s,
                                    "",
                                )
                            };
                        let applied = crate::db::payments::apply_and_file(
                            &mut conn,
                            &n,
                            &payload,
                            now,
                            &places,
                            &email,
                            &status_email,
                        )
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                        Ok(applied.rsp == crate::payments::rsp::CONFIRMED)
                    }
                    None if p.created_at + GIVE_UP_AFTER <= now => Ok(
                        crate::db::payments::cancel_unknown(&mut conn, &p.reference, now)?,
                    ),
                    None => Ok(false),
                }
            })
            .await??;
            report.settled += usize::from(settled);
        }
        Ok(())
    }

    fn database_pass(&self, now: NaiveDateTime) -> Result<(Report, Vec<String>)> {
        let mut files = Vec::new();
        let mut conn = self.pool.get().context("database connection")?;
        let mut report = Report::default();
        for draft in drafts::due_for_reminder(&mut conn, now, BATCH)? {
            let service_name =
                crate::db::dossiers::service_brief(&mut conn, draft.service_id)?.name;
            let Some(user) = crate::db::users::find_by_id(&mut conn, draft.user_id)? else {
                continue;
            };
            // The address given for this application, else the account's.
            let to = draft
                .state()
                .answers
                .get("applicant_email")
                .cloned()
                .filter(|e| !e.is_empty())
                .unwrap_or(user.email);
            let mut ctx = tera::Context::new();
            ctx.insert("name", &user.full_name);
            ctx.insert("service", &service_name);
            ctx.insert(
                "link",
                &format!("{}/drafts/{}", self.public_url, draft.public_id),
            );
            ctx.insert(
                "until",
                &crate::domain::calendar::to_local(draft.expires_at)
                    .format("%d/%m/%Y")
                    .to_string(),
            );
            let email = crate::mail::render(&self.tera, Lang::Vi, "draft_expiring", &ctx)?;
            let sent = db::transaction(&mut conn, |conn| -> Result<bool> {
                if !drafts::mark_reminded(conn, draft.id, now)? {
                    return Ok(false);
                }
                outbox::enqueue(conn, &to, &email, now)?;
                Ok(true)
            })?;
            report.reminded += usize::from(sent);
        }
        for id in drafts::expired(&mut conn, now, BATCH)? {
            let keys = db::transaction(&mut conn, |conn| -> Result<Vec<String>> {
                // Another worker may have taken it meanwhile: then there is nothing to do.
                match drafts::find(conn, id)? {
                    Some(d) if d.expires_at <= now => Ok(drafts::delete(conn, id)?),
                    _ => Ok(vec![]),
                }
            })?;
            files.extend(keys);
            report.expired += 1;
        }
        report.digests = self.digest(&mut conn, now)?;
        report.swept = crate::db::stats::sweep(&mut conn, now, 5 * BATCH)?;
        Ok((report, files))
    }

    /// Once per working day from `DIGEST_HOUR`: each office lead's email of the overdue and
    /// soon-due dossiers. The day is claimed in the same transaction as the emails are queued,
    /// so with several workers exactly one sends, and a failed run leaves the day to the next.
    fn digest(&self, conn: &mut crate::db::DbConnection, now: NaiveDateTime) -> Result<usize> {
        use crate::db::workspace;
        let local = crate::domain::calendar::to_local(now);
        let cal = crate::db::dossiers::calendar(conn)?;
        if local.time().hour() < DIGEST_HOUR || !cal.is_working_day(local.date()) {
            return Ok(0);
        }
        let clock = workspace::Clock::at(now, &cal);
        db::transaction(conn, |conn| -> Result<usize> {
            if !workspace::claim_digest(conn, local.date(), now)? {
                return Ok(0);
            }
            let mut sent = 0;
            for (agency_id, office) in workspace::offices_with_leads(conn)? {
                let (overdue, soon) = workspace::digest_rows(conn, agency_id, clock, DIGEST_ROWS)?;
                if overdue.is_empty() && soon.is_empty() {
                    continue;
                }
                let shown =
                    |v: Vec<(String, String, NaiveDateTime)>| -> Vec<(String, String, String)> {
                        v.into_iter()
                            .map(|(c, n, due)| (c, n, crate::i18n::local_time(due, Lang::Vi)))
                            .collect()
                    };
                let (overdue, soon) = (shown(overdue), shown(soon));
                for (email, name) in workspace::leads(conn, agency_id)? {
                    let mail = crate::mail::staff_digest(
                        &self.tera,
                        &self.public_url,
                        Lang::Vi,
                        &name,
                        &office,
                        &overdue,
                        &soon,
                    )?;
                    outbox::enqueue(conn, &email, &mail, now)?;
                    sent += 1;
                }
            }
            Ok(sent)
        })
    }

    /// Runs the jobs every `INTERVAL` on the current runtime.
    pub fn spawn(self: Arc<Self>) {
        let jobs = self;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            loop {
                tick.tick().await;
                let now = chrono::Utc::now().naive_utc();
                match jobs.run_once(now).await {
                    Ok(r) if r != Report::default() => tracing::info!(?r, "jobs"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "jobs failed"),
                }
            }
        });
    }
}
