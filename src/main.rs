//! Command line: one subcommand per task (`portal --help`, `portal <command> --help`).
//! Settings come from the environment (README, "Settings"); arguments only choose the task.
//! Exit codes: 0 done, 1 the task failed (the error is printed), 2 a usage error (clap).

use anyhow::Result;
use clap::{Parser, Subcommand};
use portal::config::Settings;
use portal::startup::{Application, prepare_database};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "portal",
    version,
    about = "Public service portal: the catalogue of administrative procedures, accounts, \
             applications and their tracking.",
    after_help = "Settings come from the environment (see README): DATABASE_URL, PORTAL_BIND, \
                  PORTAL_DATA_DIR, PORTAL_SMTP_URL, ..."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, seed (when the seed data changed) and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Migrate, then seed from PORTAL_DATA_DIR and exit.
    Seed,
    /// Deliver the email outbox until SIGTERM (run with PORTAL_MAIL_WORKER=false on the web).
    Worker,
    /// Generate dossiers in bulk (benchmarks, demonstrations at scale): realistic status mixes
    /// and timelines over the first ward offices of the directory.
    Generate {
        /// How many dossiers.
        #[arg(long, default_value_t = 1_000_000)]
        dossiers: u64,
        /// Over how many offices.
        #[arg(long, default_value_t = 50)]
        offices: usize,
        /// The random seed (the same seed gives the same dossiers).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The scoreboard's dossier indicators.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Administrator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Recompute every dossier's indicators and every scoreboard cell from the timeline.
    Rebuild,
    /// Count overdue dossiers, then compare the kept cells with the timeline (exit 1 when they
    /// differ, listing each difference).
    Check,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator and print a one-time link (72 h) to set the password.
    Create {
        /// The administrator's email address.
        #[arg(long)]
        email: String,
        /// The administrator's full name.
        #[arg(long)]
        name: String,
    },
}

#[actix_web::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    portal::telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings)?;
            tracing::info!(port = app.port(), "portal listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let pool = portal::db::connect_pool(&settings.database_url, 1)?;
            let applied = portal::db::migrate(&mut *pool.get()?)?;
            println!("{applied} migration(s) applied");
        }
        Command::Seed => {
            // Seed first: the demo accounts (when on) belong to seeded wards and offices.
            let mut s = settings.clone();
            s.seed_on_start = false;
            s.demo = false;
            let pool = prepare_database(&s)?;
            let report = portal::db::seed::run(&mut *pool.get()?, &s.data_dir)?;
            if settings.demo {
                settings.check()?;
                portal::demo::ensure(&mut *pool.get()?)?;
            }
            println!("{report:?}");
        }
        Command::Worker => {
            tracing::info!("mail worker starting");
            portal::mail::worker::run_forever(&settings).await?;
        }
        Command::Generate {
            dossiers,
            offices,
            seed,
        } => {
            let pool = prepare_database(&settings)?;
            let started = std::time::Instant::now();
            let report = portal::db::generate::run(
                &mut *pool.get()?,
                &portal::db::generate::Options {
                    dossiers,
                    offices,
                    seed,
                    now: chrono::Utc::now().naive_utc(),
                },
            )?;
            println!(
                "{} dossiers and {} timeline events over {} offices in {:.1} s (first office {})",
                report.dossiers,
                report.events,
                report.offices.len(),
                started.elapsed().as_secs_f64(),
                report.offices.first().map(String::as_str).unwrap_or("-")
            );
        }
        Command::Stats { command } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get()?;
            let now = chrono::Utc::now().naive_utc();
            let started = std::time::Instant::now();
            match command {
                StatsCommand::Rebuild => {
                    let r = portal::db::stats::rebuild(&mut conn, now)?;
                    println!(
                        "{} dossiers, {} cells in {:.1} s",
                        r.dossiers,
                        r.cells,
                        started.elapsed().as_secs_f64()
                    );
                }
                StatsCommand::Check => {
                    while portal::db::stats::sweep(&mut conn, now, 10_000)? > 0 {}
                    let differences = portal::db::stats::check(&mut conn, now)?;
                    for d in &differences {
                        println!("{d}");
                    }
                    println!(
                        "{} difference(s) in {:.1} s",
                        differences.len(),
                        started.elapsed().as_secs_f64()
                    );
                    if !differences.is_empty() {
                        std::process::exit(1);
                    }
                }
            }
        }
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => {
            let mut s = settings;
            s.demo = false;
            let pool = prepare_database(&s)?;
            let link = portal::demo::create_admin(&mut *pool.get()?, &email, &name, &s.public_url)?;
            println!("Administrator {email} created. Set the password within 72 hours at:\n{link}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn unknown_commands_and_missing_flags_are_usage_errors() {
        for args in [
            vec!["portal", "sed"],
            vec!["portal", "admin", "create", "--email", "a@b.vn"],
        ] {
            let err = Cli::try_parse_from(args).err().expect("usage error");
            assert_eq!(err.exit_code(), 2);
        }
        assert!(matches!(
            Cli::try_parse_from(["portal"]).map(|c| c.command.is_none()),
            Ok(true)
        ));
    }
}
