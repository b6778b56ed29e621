//! Scheduled work, run by every worker (the web process's and `portal worker`), safe when
//! several run at once: reminders before a draft expires (each marked sent by a conditional
//! update, so one worker wins and one email goes out), and the deletion of expired drafts
//! with their files.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;

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
}

pub struct Jobs {
    pub pool: Pool,
    pub tera: tera::Tera,
    pub storage: Arc<dyn Storage>,
    pub public_url: String,
}

impl Jobs {
    pub fn new(pool: Pool, settings: &crate::config::Settings) -> Result<Arc<Jobs>> {
        Ok(Arc::new(Jobs {
            pool,
            tera: crate::startup::load_templates(settings)?,
            storage: crate::storage::from_settings(settings)?,
            public_url: settings.public_url.trim_end_matches('/').to_string(),
        }))
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
        Ok(report)
    }

    fn database_pass(&self, now: NaiveDateTime) -> Result<(Report, Vec<String>)> {
        let mut files = Vec::new();
        let mut conn = self.pool.get().context("database connection")?;
        let mut report = Report::default();
        for draft in drafts::due_for_reminder(&mut conn, now, BATCH)? {
            let service_name = {
                use crate::db::schema::services;
                use diesel::prelude::*;
                services::table
                    .find(draft.service_id)
                    .select(services::name)
                    .first::<String>(&mut conn)?
            };
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
        Ok((report, files))
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
