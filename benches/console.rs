//! How soon the console is usable: the demo data seeded into a temporary
//! SQLite database as `serve --demo` seeds it, the gateway serving it, and
//! headless chromium opening each role's first view by its sign-in link,
//! five times each. Prints, per role, the time from navigation start to
//! the view showing its data (the page's `console:ready` mark) and the
//! bytes the page loaded. Needs Debian's chromium and chromium-driver.
//!
//! `cargo bench --bench console`

// The load benches' server start-up and the console journeys' WebDriver
// harness, shared as they are; this bench uses only part of each.
#[allow(dead_code)]
#[path = "../tests/api/browser.rs"]
mod browser;
#[allow(dead_code)]
mod common;

use std::time::Duration;

use brand_gateway::{
    auth::{self, Role},
    blobs::BlobStore,
    onboarding::documents::DocumentStore,
    seed,
};

/// Sign-ins per role.
const LOADS: usize = 5;

#[tokio::main]
async fn main() {
    if browser::find_browser().is_none() {
        eprintln!("console bench skipped: chromium and chromedriver are not on PATH");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
    let db = brand_gateway::db::connect_and_migrate(&url)
        .await
        .expect("database");
    let blobs = BlobStore::open(&dir.path().join("blobs").display().to_string()).expect("blobs");
    seed::run(&db, &blobs, &seed::demo::options())
        .await
        .expect("seed");
    let documents = DocumentStore {
        blobs,
        max_bytes: 10 << 20,
    };
    seed::demo::stage(&db, &documents).await.expect("stage");
    seed::demo::stage_benefits(&db).await.expect("benefits");
    let (addr, keys) = common::serve(&url, db.clone()).await;

    println!(
        "console first view, demo data ({} members), {LOADS} loads each, headless chromium",
        seed::demo::options().members
    );
    let browser = browser::Browser::start("zh-CN").await;
    for (role, brand) in [
        (Role::BrandAnalyst, Some(1)),
        (Role::BrandOperator, Some(1)),
        (Role::Reviewer, None),
        (Role::Admin, None),
    ] {
        let token = auth::issue(&db, &keys, role, brand, "bench", 1)
            .await
            .expect("token")
            .token;
        let mut ready = Vec::new();
        let mut bytes = (0.0, 0.0);
        for _ in 0..LOADS {
            browser.goto("about:blank").await;
            browser
                .goto(&format!("http://{addr}/console#token={token}"))
                .await;
            let mut at = None;
            for _ in 0..200 {
                let mark = browser
                    .execute(
                        "const m = performance.getEntriesByName('console:ready')[0]; \
                         return m ? m.startTime : null;",
                    )
                    .await;
                if let Some(ms) = mark.as_f64() {
                    at = Some(ms);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            ready.push(at.expect("the first view became ready within 5 s"));
            // Decoded and as sent (gzipped), page and scripts, not the API.
            let sizes = browser
                .execute(
                    "const all = [performance.getEntriesByType('navigation')[0], \
                       ...performance.getEntriesByType('resource').filter(r => r.initiatorType !== 'fetch')]; \
                     return [all.reduce((s, r) => s + r.decodedBodySize, 0), \
                             all.reduce((s, r) => s + r.encodedBodySize, 0)];",
                )
                .await;
            let size = |i: usize| sizes[i].as_f64().unwrap_or_default() / 1024.0;
            bytes = (size(0), size(1));
        }
        ready.sort_by(f64::total_cmp);
        println!(
            "  {:<15} ready in {:>5.0} ms fastest, {:>5.0} ms median; page and scripts {:.0} KB ({:.0} KB sent)",
            sea_orm::ActiveEnum::to_value(&role),
            ready[0],
            ready[LOADS / 2],
            bytes.0,
            bytes.1
        );
    }
    browser.close().await;
}
