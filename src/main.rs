//! The `brand-gateway` binary: parses the command line and hands off to
//! the library. See `brand-gateway --help`.

use std::process::ExitCode;

use brand_gateway::{
    Application,
    auth::{self, Role, TokenKeys},
    blobs::BlobStore,
    config::{Cli, Command, Config, SeedArgs},
    db, graphql, import, onboarding, platform, platform_data, seed, segments,
};
use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    brand_gateway::telemetry::init(cli.log_json);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(cli: Cli) -> Result<(), BoxError> {
    let url = &cli.database.database_url;
    let blobs = || BlobStore::open(&cli.database.blob_store);
    match cli.command {
        None => serve(&cli, &cli.serve).await,
        Some(Command::Serve(ref args)) => serve(&cli, args).await,
        Some(Command::Migrate) => {
            db::connect_and_migrate(url).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Some(Command::Seed(ref args)) => {
            let db = db::connect_and_migrate(url).await?;
            print_seed_report(&seed::run(&db, &blobs()?, &seed_options(args)).await?);
            Ok(())
        }
        Some(Command::Import(ref args)) => {
            let db = db::connect_and_migrate(url).await?;
            let report = import::run(&db, &blobs()?, &args.dir, args.replace).await?;
            eprintln!(
                "imported {} rows in {:.1} s: {}",
                report.rows.total(),
                report.elapsed.as_secs_f64(),
                serde_json::to_string(&report.rows)?
            );
            Ok(())
        }
        Some(Command::Refresh) => {
            let db = db::connect_and_migrate(url).await?;
            let report = platform_data::refresh(&db, &blobs()?, platform::business_today()).await?;
            eprintln!(
                "data epoch {}: {} cube cells in {:.1} s",
                report.epoch_id,
                report.cells,
                report.elapsed.as_secs_f64()
            );
            Ok(())
        }
        Some(Command::RunDue) => {
            let db = db::connect_and_migrate(url).await?;
            eprintln!(
                "{}",
                brand_gateway::due::run(&db, chrono::Utc::now()).await?
            );
            Ok(())
        }
        Some(Command::Sdl) => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Some(Command::Token(ref args)) => {
            let db = db::connect_and_migrate(url).await?;
            let keys = TokenKeys::new(&cli.auth.load()?)?;
            let issued =
                auth::issue(&db, &keys, args.role, args.brand, &args.subject, args.hours).await?;
            eprintln!(
                "credential {} (revoke with `brand-gateway revoke --credential {}`)",
                issued.credential_id, issued.credential_id
            );
            println!("{}", issued.token);
            Ok(())
        }
        Some(Command::Revoke(ref args)) => {
            let db = db::connect_and_migrate(url).await?;
            // This process serves nothing, so it holds no credentials;
            // servers notice within their cache time.
            let nothing_held = auth::CredentialCache::new(std::time::Duration::ZERO);
            auth::revoke(&db, &nothing_held, &args.credential, &args.subject).await?;
            eprintln!("credential {} revoked", args.credential);
            Ok(())
        }
    }
}

fn seed_options(args: &SeedArgs) -> seed::SeedOptions {
    seed::SeedOptions {
        members: args.members,
        brands: args.brands,
        long_tail: args.long_tail,
        seed: args.seed,
        as_of: args.as_of.unwrap_or_else(platform::business_today),
        replace: args.replace,
    }
}

fn print_seed_report(report: &seed::SeedReport) {
    let seconds = report.elapsed.as_secs_f64();
    eprintln!(
        "seeded {} rows ({} members) in {seconds:.1} s, {:.0} rows/s: {}",
        report.rows.total(),
        report.rows.members,
        report.rows.total() as f64 / seconds.max(1e-9),
        serde_json::to_string(&report.rows).unwrap_or_default()
    );
    eprintln!(
        "audience cube: data epoch {}, {} cells in {:.1} s",
        report.cube.epoch_id,
        report.cube.cells,
        report.cube.elapsed.as_secs_f64()
    );
}

/// The brand of the oldest application waiting in review, so the demo can
/// print a token for the applicant's side of the walkthrough.
async fn first_applicant(db: &sea_orm::DatabaseConnection) -> Result<Option<i64>, BoxError> {
    let filter = onboarding::ApplicationFilter {
        states: vec![entity::enums::ApplicationState::InReview],
        ..Default::default()
    };
    let page = onboarding::list(
        db,
        auth::BrandScope::All,
        &filter,
        brand_gateway::pagination::PageRequest::Forward {
            size: 1,
            after: None,
        },
    )
    .await?;
    Ok(page.items.first().map(|a| a.brand_id))
}

async fn serve(cli: &Cli, args: &brand_gateway::config::ServeArgs) -> Result<(), BoxError> {
    let config = Config::from_args(&cli.database, &cli.auth, args)?;
    let db = db::connect_and_migrate(&config.database_url).await?;
    if args.demo && platform_data::is_empty(&db).await? {
        let blobs = BlobStore::open(&config.blob_store)?;
        let options = seed::demo::options();
        eprintln!(
            "empty database: seeding demo data ({} members, {} listed brands and up to {} more per category)…",
            options.members, options.brands, options.long_tail
        );
        print_seed_report(&seed::run(&db, &blobs, &options).await?);
        let documents = brand_gateway::onboarding::documents::DocumentStore {
            blobs,
            max_bytes: config.max_document_bytes,
        };
        let staged = seed::demo::stage(&db, &documents).await?;
        let offered = seed::demo::stage_benefits(&db).await?;
        eprintln!(
            "demo benefits: {offered} across the admitted brands (live, waiting for review, or draft)"
        );
        eprintln!("demo applications (screened against today's data):");
        for s in &staged {
            let verdict = match (s.scene, s.boundary, s.passed) {
                (Some(scene), _, _) => scene,
                (None, true, true) => "passes; market share exactly at its threshold",
                (None, true, false) => {
                    "market share exactly at its threshold; fails another measure"
                }
                (None, false, true) => "passes every measure",
                (None, false, false) => "fails a measure",
            };
            eprintln!(
                "  application {:>3}  brand {:>3} {:<28} {:<10} {verdict}",
                s.application_id,
                s.brand_id,
                s.brand_name,
                sea_orm::ActiveEnum::to_value(&s.state),
            );
        }
    }
    let privacy = config.privacy;
    let app = Application::build_with_db(config, db.clone()).await?;
    // The current epoch's platform release, made before the first question
    // so no brand waits for it (or can tell from the wait that it is first).
    if let Some(release) = segments::prepare_platform_release(&db, &privacy).await? {
        eprintln!(
            "platform release of data epoch {}: ε {}, {} tables, {} cells, built in {} ms",
            release.epoch_id,
            release.epsilon_micros as f64 / 1e6,
            release.tables,
            release.cells,
            release.build_ms
        );
    }
    let addr = app.local_addr()?;
    let metrics_addr = app.metrics_addr()?;
    if args.demo {
        let keys = TokenKeys::new(&cli.auth.load()?)?;
        eprintln!(
            "\nDemo tokens (valid 24 h; send as `Authorization: Bearer <token>`, or open the console link):"
        );
        let applicant = first_applicant(&db).await?;
        for (role, brand) in [
            (Role::BrandAnalyst, Some(1)),
            (Role::BrandOperator, Some(1)),
            (Role::BrandOperator, applicant),
            (Role::Reviewer, None),
            (Role::Admin, None),
            (Role::Service, None),
        ] {
            if role == Role::BrandOperator && brand.is_none() {
                continue;
            }
            let issued = auth::issue(&db, &keys, role, brand, "demo", 24).await?;
            let role = sea_orm::ActiveEnum::to_value(&role);
            let label = match brand {
                Some(id) => format!("{role} (brand {id})"),
                None => role,
            };
            eprintln!("  {label:<22} {}", issued.token);
            // The token rides in the fragment, which browsers never send.
            eprintln!("  {:<22} http://{addr}/console#token={}", "", issued.token);
        }
        eprintln!();
    }
    eprintln!("Console:   http://{addr}/console");
    eprintln!("GraphiQL:  http://{addr}/graphiql");
    eprintln!("GraphQL:   http://{addr}/graphql");
    eprintln!("Metrics:   http://{metrics_addr}/metrics");
    tracing::info!(%addr, %metrics_addr, "listening");
    app.run_until_stopped().await?;
    Ok(())
}
