//! Open data: the catalogue as CSV and JSON with its licence, and the page listing them.

use crate::common::spawn_app;

#[tokio::test]
async fn the_catalogue_downloads_state_their_licence_and_match_the_catalogue() {
    let app = spawn_app().await;
    let res = app.get("/open-data/catalogue.json").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["link"]
            .to_str()
            .expect("link")
            .contains("rel=\"license\"")
    );
    let doc: serde_json::Value = res.json().await.expect("json");
    assert!(
        doc["licence"]
            .as_str()
            .expect("licence")
            .starts_with("CC BY 4.0")
    );
    let records = doc["records"].as_array().expect("records");
    assert_eq!(doc["count"].as_u64(), Some(records.len() as u64));
    assert!(records.len() > 2000, "{}", records.len());
    let birth = records
        .iter()
        .find(|r| r["code"] == "1.001193")
        .expect("birth registration");
    let level = birth["online_level"].as_i64().expect("level");
    assert!((1..=4).contains(&level));

    // The CSV: the licence line, the header, one row per record, quoted where it must be.
    let res = app.get("/open-data/catalogue.csv").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.expect("body");
    let mut lines = csv.split("\r\n");
    assert!(
        lines
            .next()
            .expect("licence")
            .starts_with("# Licence: CC BY 4.0")
    );
    assert_eq!(
        lines.next(),
        Some(
            "code,name,field,ministry,implementing_agency,implementing_levels,online_level,fee_vnd"
        )
    );
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), records.len());
    let row = rows
        .iter()
        .find(|r| r.starts_with("1.001193,"))
        .expect("the birth registration row");
    assert!(row.contains(&format!(",{level},")), "{row}");

    // Python's csv module reads it back (a real parser, not ours).
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv,sys,io; t=sys.stdin.read(); r=list(csv.reader(io.StringIO(t.split('\\r\\n',1)[1]))); print(len(r)-1, len({len(x) for x in r}))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(csv.as_bytes())?;
            child.wait_with_output()
        });
    let out = parsed.expect("python3 reads the CSV");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{} 1", records.len()),
        "every row has the header's 8 columns"
    );

    let (status, html) = app.get_text("/open-data").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/open-data/catalogue.csv\"") && html.contains("CC BY 4.0"));
    assert!(html.contains(&format!("{} thủ tục", records.len())));
    assert_eq!(app.get("/open-data/other.csv").await.status().as_u16(), 404);
}

#[tokio::test]
async fn the_scoreboard_counts_the_catalogue_exactly() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .get("/open-data/catalogue.json")
        .await
        .json()
        .await
        .expect("json");
    let records = doc["records"].as_array().expect("records");
    let level = |r: &serde_json::Value| r["online_level"].as_i64().unwrap_or(0);
    let online = records.iter().filter(|r| level(r) >= 3).count();
    let full = records.iter().filter(|r| level(r) == 4).count();
    let (status, html) = app.get_text("/scoreboard").await;
    assert_eq!(status, 200);
    assert!(html.contains("role=\"img\"") && html.contains("<title id=\"chart-title\">"));
    let rows: Vec<(String, Vec<String>)> = html
        .split("<tr class=\"scoreboard-row\">")
        .skip(1)
        .map(|row| {
            let row = row.split("</tr>").next().unwrap_or("");
            let name = row
                .split("<th scope=\"row\">")
                .nth(1)
                .and_then(|s| s.split("</th>").next())
                .unwrap_or("")
                .to_string();
            let cells = row
                .split("<td>")
                .skip(1)
                .map(|c| c.split("</td>").next().unwrap_or("").to_string())
                .collect();
            (name, cells)
        })
        .collect();
    let (portal, cells) = rows.last().expect("the portal's row");
    assert_eq!(portal, "Toàn cổng");
    assert_eq!(cells[0], records.len().to_string());
    let pct = |part: usize| (part as f64 * 1000.0 / records.len() as f64).round() / 10.0;
    assert_eq!(cells[1], format!("{}% ({online})", pct(online)));
    assert_eq!(cells[2], format!("{}% ({full})", pct(full)));
    let ministries: usize = rows[..rows.len() - 1]
        .iter()
        .map(|(_, c)| c[0].parse::<usize>().expect("count"))
        .sum();
    assert_eq!(
        ministries,
        records.len(),
        "the ministries add up to the portal"
    );

    // The same table as open data.
    let csv = app
        .get("/open-data/scoreboard-catalogue.csv")
        .await
        .text()
        .await
        .expect("csv");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("# Licence: CC BY 4.0"));
    assert_eq!(
        lines[1],
        "ministry_code,ministry,total,online,full,fee_charging,fee_online"
    );
    assert_eq!(lines.len(), 2 + rows.len());
    let last = lines.last().expect("the portal's row");
    assert!(
        last.starts_with(&format!(",portal,{},{online},{full},", records.len())),
        "{last}"
    );
    let json: serde_json::Value = app
        .get("/open-data/scoreboard-catalogue.json")
        .await
        .json()
        .await
        .expect("json");
    let json_rows = json["rows"].as_array().expect("rows");
    assert_eq!(json_rows.len(), rows.len());
    assert_eq!(json_rows.last().expect("portal")["total"], records.len());
    assert!(json["definitions"]["online"].is_string());
}
