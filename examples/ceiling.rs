//! The throughput ceiling for `benches/http.sh`: the least an actix-web server
//! can do per request (`GET /` → 200 `ok`), with the portal's worker setting.
//! The portal's own pages are measured as a fraction of this.
//!
//! ```sh
//! cargo run --release --example ceiling            # 127.0.0.1:8090
//! CEILING_BIND=127.0.0.1:18090 PORTAL_WORKERS=2 cargo run --release --example ceiling
//! ```

use actix_web::{App, HttpResponse, HttpServer, get, http::header::ContentType};

#[get("/")]
async fn ok() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body("ok")
}

fn workers() -> std::io::Result<usize> {
    match std::env::var("PORTAL_WORKERS") {
        Ok(v) if !v.trim().is_empty() => {
            v.trim().parse::<usize>().map(|n| n.max(1)).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("PORTAL_WORKERS must be a number, got {v:?}"),
                )
            })
        }
        _ => Ok(std::thread::available_parallelism().map_or(2, |n| n.get())),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("CEILING_BIND")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:8090".to_string());
    let workers = workers()?;
    let server = HttpServer::new(|| App::new().service(ok))
        .workers(workers)
        .bind(&bind)?;
    for addr in server.addrs() {
        println!("ceiling listening on http://{addr} with {workers} worker(s)");
    }
    server.run().await
}
