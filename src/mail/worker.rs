//! The outbox worker: claims due messages, sends each, records sent or failed with the error,
//! retrying with capped exponential backoff. It runs inside the web process by default
//! (`startup`) and alone as `portal worker`; any number can run against PostgreSQL, because a
//! claim is exclusive (`FOR UPDATE SKIP LOCKED` plus a lease, see `db::outbox`).
//!
//! Delivery is at-least-once by nature (SMTP accepted, then the process died before recording
//! it); the lease, stopping a batch before its lease runs out, and marking right after each send
//! keep that window to one message and one crash.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{NaiveDateTime, TimeDelta, Utc};
use lettre::message::Mailbox;
use tokio::sync::Notify;

use super::transport::{SMTP_TIMEOUT, Transport, build_message};
use crate::config::Settings;
use crate::db::{self, Pool, outbox};

pub use crate::domain::retry::RetryPolicy;

#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// How often to look for due messages when nobody wakes the worker.
    pub poll: Duration,
    /// Messages claimed at once.
    pub batch: i64,
    /// How long a claim holds; must exceed `batch` sends at `SMTP_TIMEOUT` each to never lapse.
    pub lease: Duration,
    pub retry: RetryPolicy,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            poll: Duration::from_secs(1),
            batch: 10,
            lease: Duration::from_secs(300),
            retry: RetryPolicy::default(),
        }
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
    /// Given back unattempted (stopping, or the lease nearly over).
    pub released: usize,
}

pub struct Worker {
    pool: Pool,
    transport: Transport,
    from: Mailbox,
    config: WorkerConfig,
    stop: Arc<AtomicBool>,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

enum Failure {
    /// Retrying cannot help (bad address): failed at once.
    Permanent(String),
    /// SMTP refused or unreachable: try again later.
    Transient(String),
}

impl Worker {
    /// The sender address comes from `mail_from`; the default policy from `WorkerConfig`.
    pub fn new(pool: Pool, transport: Transport, settings: &Settings) -> Result<Worker> {
        let from: Mailbox = settings.mail_from.parse().with_context(|| {
            format!(
                "PORTAL_MAIL_FROM {:?} is not an address like `Name <a@b.c>`",
                settings.mail_from
            )
        })?;
        Ok(Worker {
            pool,
            transport,
            from,
            config: WorkerConfig::default(),
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn with_config(mut self, config: WorkerConfig) -> Worker {
        self.config = config;
        self
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Claims one batch and works through it (blocking: database and SMTP).
    pub fn run_once(&self) -> Result<BatchReport> {
        let lease = TimeDelta::from_std(self.config.lease).context("lease too long")?;
        let batch = {
            let mut conn = self.pool.get().context("database connection")?;
            outbox::claim_due(&mut conn, now(), self.config.batch, lease)
                .context("claiming due emails")?
        };
        let mut report = BatchReport {
            claimed: batch.len(),
            ..BatchReport::default()
        };
        // Leave room for one more send (a slow server may use the timeout on several steps):
        // past the lease another worker may take the rows over, and that would mean duplicates.
        let margin = TimeDelta::from_std((SMTP_TIMEOUT * 3).min(self.config.lease / 2))
            .unwrap_or(TimeDelta::zero());
        for msg in &batch {
            let lease_end = msg.locked_until.unwrap_or(NaiveDateTime::MIN);
            if self.stop.load(Ordering::Relaxed) || now() + margin >= lease_end {
                let mut conn = self.pool.get().context("database connection")?;
                outbox::release(&mut conn, msg).context("releasing an email")?;
                report.released += 1;
                continue;
            }
            let outcome = self.deliver(msg);
            // Recorded right after each send, so a crash re-sends at most this one message.
            let mut conn = self.pool.get().context("database connection")?;
            match outcome {
                Ok(()) => {
                    report.sent += 1;
                    if outbox::mark_sent(&mut conn, msg, now()).context("recording a delivery")? {
                        tracing::info!(outbox_id = msg.id, attempts = msg.attempts, "email sent");
                    } else {
                        tracing::warn!(
                            outbox_id = msg.id,
                            "email sent after its claim lapsed; another worker may send it again"
                        );
                    }
                }
                Err(failure) => {
                    report.failed += 1;
                    let (error, next) = match failure {
                        Failure::Permanent(e) => (e, None),
                        Failure::Transient(e) => {
                            let next = self.config.retry.next_attempt(msg.attempts, now());
                            (e, next)
                        }
                    };
                    outbox::mark_failed(&mut conn, msg, &error, next)
                        .context("recording a failed delivery")?;
                    match next {
                        Some(at) => tracing::warn!(
                            outbox_id = msg.id,
                            attempts = msg.attempts,
                            %error,
                            retry_at = %at,
                            "email not sent; will retry"
                        ),
                        None => tracing::warn!(
                            outbox_id = msg.id,
                            attempts = msg.attempts,
                            %error,
                            "email not sent; giving up"
                        ),
                    }
                }
            }
        }
        Ok(report)
    }

    fn deliver(&self, msg: &outbox::OutboxMessage) -> Result<(), Failure> {
        let message =
            build_message(&self.from, msg).map_err(|e| Failure::Permanent(e.to_string()))?;
        self.transport.send(&message).map_err(Failure::Transient)
    }

    /// Runs the worker as a task on the current Tokio runtime: a batch on the blocking pool,
    /// then a pause of `poll` (cut short by `WorkerHandle::wake`). The task ends with the
    /// runtime, so a test's server and its worker go away together.
    pub fn spawn(self) -> WorkerHandle {
        let stop = self.stop.clone();
        let notify = Arc::new(Notify::new());
        let wake = notify.clone();
        let worker = Arc::new(self);
        tracing::info!(transport = %worker.transport.describe(), "mail worker started");
        let task = tokio::spawn(async move {
            let mut errors: u32 = 0;
            while !worker.stop.load(Ordering::Relaxed) {
                let w = worker.clone();
                let pause = match tokio::task::spawn_blocking(move || w.run_once()).await {
                    // A full batch means more may be due: go on at once.
                    Ok(Ok(r)) if r.claimed as i64 >= worker.config.batch && r.released == 0 => {
                        errors = 0;
                        continue;
                    }
                    Ok(Ok(_)) => {
                        errors = 0;
                        worker.config.poll
                    }
                    Ok(Err(e)) => {
                        errors = errors.saturating_add(1);
                        tracing::warn!(error = format!("{e:#}"), "mail outbox batch failed");
                        // The database is likely down: back off instead of logging every poll.
                        (worker.config.poll * errors.min(30)).min(Duration::from_secs(30))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "mail outbox batch panicked");
                        worker.config.poll
                    }
                };
                let _ = tokio::time::timeout(pause, wake.notified()).await;
            }
            tracing::info!("mail worker stopped");
        });
        WorkerHandle { notify, stop, task }
    }
}

/// Controls a spawned worker. Dropping it leaves the worker running.
pub struct WorkerHandle {
    notify: Arc<Notify>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// Cloneable nudge for code that just enqueued (after commit) and wants delivery now.
#[derive(Clone)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn wake(&self) {
        // `notify_one` keeps a permit when the worker is busy, so the nudge is not lost.
        self.0.notify_one();
    }
}

impl WorkerHandle {
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    pub fn waker(&self) -> Waker {
        Waker(self.notify.clone())
    }

    /// Finishes the message being sent, gives the rest of the batch back, and stops.
    pub async fn shutdown(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.notify.notify_one();
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "mail worker ended abnormally");
        }
    }
}

/// The in-process worker of `Application::build`: transport from settings, default policy.
pub fn spawn(pool: Pool, transport: Transport, settings: &Settings) -> Result<WorkerHandle> {
    Ok(Worker::new(pool, transport, settings)?.spawn())
}

/// `portal worker`: delivers until SIGINT or SIGTERM, then stops cleanly (the message in flight
/// is finished and recorded, the rest of the batch is given back for the next worker).
pub async fn run_forever(settings: &Settings) -> Result<()> {
    let pool = db::connect_pool(&settings.database_url, 2)?;
    let transport = Transport::from_settings(settings)?;
    let handle = spawn(pool.clone(), transport, settings)?;
    crate::jobs::Jobs::new(pool, settings)?.spawn();
    shutdown_signal().await?;
    tracing::info!("stopping the mail worker");
    handle.shutdown().await;
    Ok(())
}

/// Waits for SIGINT or SIGTERM (what `docker stop` and systemd send).
async fn shutdown_signal() -> Result<()> {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let received = Arc::new(Notify::new());
    for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
        let mut stream = signal(kind).context("listening for SIGINT/SIGTERM")?;
        let received = received.clone();
        tokio::spawn(async move {
            stream.recv().await;
            received.notify_one();
        });
    }
    received.notified().await;
    Ok(())
}
