//! Command line: `portal [serve]`, `portal migrate`, `portal seed`, `portal worker`. Nothing else
//! lives here.

use anyhow::Result;
use portal::config::Settings;
use portal::startup::{Application, prepare_database};

const USAGE: &str =
    "usage: portal [serve|migrate|seed|worker|admin create --email EMAIL --name NAME]

  serve    migrate, seed (when the seed data changed) and serve (default)
  migrate  apply pending database migrations and exit
  seed     migrate, then seed from PORTAL_DATA_DIR and exit
  worker   deliver the email outbox until SIGTERM (with PORTAL_MAIL_WORKER=false on the web)

Settings come from the environment (see README): DATABASE_URL, PORTAL_BIND, PORTAL_DATA_DIR, ...";

#[actix_web::main]
async fn main() -> Result<()> {
    let settings = Settings::from_env()?;
    portal::telemetry::init(settings.log_format);
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    match command.as_str() {
        "serve" => {
            let app = Application::build(settings)?;
            tracing::info!(port = app.port(), "portal listening");
            app.run_until_stopped().await?;
        }
        "admin" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let flag = |name: &str| {
                args.iter()
                    .position(|a| a == name)
                    .and_then(|i| args.get(i + 1))
                    .cloned()
            };
            if args.first().map(String::as_str) != Some("create") {
                eprintln!("usage: portal admin create --email EMAIL --name NAME");
                std::process::exit(2);
            }
            let (Some(email), Some(name)) = (flag("--email"), flag("--name")) else {
                eprintln!("usage: portal admin create --email EMAIL --name NAME");
                std::process::exit(2);
            };
            let mut s = settings;
            s.demo = false;
            let pool = prepare_database(&s)?;
            let link = portal::demo::create_admin(&mut *pool.get()?, &email, &name, &s.public_url)?;
            println!("Administrator {email} created. Set the password within 72 hours at:\n{link}");
        }
        "migrate" => {
            let pool = portal::db::connect_pool(&settings.database_url, 1)?;
            let applied = portal::db::migrate(&mut *pool.get()?)?;
            println!("{applied} migration(s) applied");
        }
        "seed" => {
            let mut s = settings;
            s.seed_on_start = false;
            let pool = prepare_database(&s)?;
            let report = portal::db::seed::run(&mut *pool.get()?, &s.data_dir)?;
            println!("{report:?}");
        }
        "worker" => {
            tracing::info!("mail worker starting");
            portal::mail::worker::run_forever(&settings).await?;
        }
        "-h" | "--help" | "help" => println!("{USAGE}"),
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            std::process::exit(2);
        }
    }
    Ok(())
}
