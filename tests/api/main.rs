//! The integration suite: every test drives the real server over HTTP on
//! 127.0.0.1 with its own database, once on SQLite and once on PostgreSQL.
//! A custom harness (libtest-mimic) so the PostgreSQL cluster is started
//! once before the tests and stopped after them, with libtest's output.
//! Each engine's seeded template (see `helpers`) is made by the first test
//! that needs it and removed after the last.

mod admin;
mod audience;
mod auth;
mod benefits;
mod brands;
mod browser;
mod checkout;
mod console;
mod criteria;
mod data;
mod due;
mod federation;
mod hardening;
mod helpers;
mod http;
mod limits;
mod onboarding;
mod operations;
mod postgres;
mod privacy;
mod qualifications;
mod schema;
mod standing;
mod targeting;
mod usage;
mod webhooks;

use std::{future::Future, pin::Pin, process::ExitCode};

use helpers::Backend;
use libtest_mimic::{Arguments, Trial};

type TestFn = fn(Backend) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! tests {
    ($($path:path),* $(,)?) => {
        vec![$((
            stringify!($path).replace(' ', ""),
            (|backend| Box::pin($path(backend))) as TestFn,
        )),*]
    };
}

/// Tests whose behaviour depends on the database: run on both engines.
fn per_backend() -> Vec<(String, TestFn)> {
    tests![
        admin::admins_manage_brands_and_credentials,
        webhooks::a_brands_webhook_never_reaches_an_internal_address_by_name,
        qualifications::documents_are_checked_and_gate_approval,
        qualifications::conditions_are_tracked_and_a_missed_one_watchlists,
        auth::requests_without_a_token_get_401_saying_why,
        auth::malformed_forged_and_expired_tokens_are_refused,
        auth::revoked_credentials_stop_working_within_the_cache_time,
        auth::token_command_prints_only_a_working_token,
        brands::a_brand_principal_sees_only_its_own_brand,
        brands::another_brands_id_is_not_found_everywhere,
        brands::platform_roles_page_through_every_brand,
        brands::brands_filter_by_category_and_status,
        brands::page_arguments_are_validated,
        brands::internal_errors_are_masked,
        data::seeding_is_deterministic_and_realistic,
        data::seeding_refuses_a_database_with_data,
        data::a_load_the_database_refuses_changes_nothing,
        data::a_refused_load_deletes_its_snapshot_files,
        data::a_load_prunes_older_snapshots,
        data::import_loads_csv_files,
        data::a_member_counts_under_at_most_five_of_its_interests,
        data::a_bad_csv_row_names_file_line_and_column_and_changes_nothing,
        http::readyz_checks_the_database,
        audience::only_a_brands_own_analyst_gets_audience_answers,
        audience::bad_questions_get_user_errors_naming_the_problem,
        audience::answers_carry_metrics_and_privacy_metadata,
        audience::a_repeat_question_reads_the_budget_only_when_asked,
        audience::repeat_answers_follow_epochs_and_standing_within_the_cache_time,
        audience::utility_on_large_cells_meets_the_target,
        audience::the_cube_matches_the_member_rows,
        audience::platform_slices_agree_with_each_other,
        audience::a_rare_population_is_unbiased_over_epochs,
        audience::prospects_are_the_platform_minus_the_store,
        audience::trends_read_past_releases_without_releasing_again,
        audience::any_of_interests_and_interests_by_services,
        criteria::measures_match_hand_computed_cases,
        criteria::a_list_reads_each_brands_own_measures,
        criteria::kept_figures_are_the_figures_read,
        criteria::policies_are_versioned_and_evaluations_immutable,
        criteria::at_risk_brands_and_policy_previews,
        onboarding::every_legal_transition_records_its_event,
        onboarding::refusals_name_the_rule_and_the_field,
        onboarding::a_refused_brand_waits_out_the_cool_down,
        webhooks::events_reach_webhooks_in_order_once_despite_a_down_receiver,
        onboarding::probation_expiry_and_warnings_run_once,
        onboarding::concurrent_claims_and_decisions_have_one_winner,
        onboarding::another_brands_application_is_not_found,
        onboarding::the_queue_filters_pages_and_batches,
        benefits::every_kind_validates_and_names_the_field,
        benefits::lifecycle_revisions_and_review,
        benefits::stacking_outcomes_match_the_hand_checked_matrix,
        benefits::budgets_hold_under_concurrent_redemptions,
        benefits::a_money_budget_is_spent_to_the_last_fen_across_slots,
        benefits::order_amounts_are_bounded_and_never_wrap,
        benefits::another_brands_benefit_is_not_found,
        benefits::the_calendar_marks_each_window_on_its_days,
        benefits::schedules_and_the_usage_policy_run_once,
        benefits::reach_usage_and_the_member_centre,
        benefits::concurrent_edits_have_one_winner,
        benefits::renewal_rates_leave_only_through_the_privacy_engine,
        checkout::quotes_orders_and_refunds_follow_one_engine,
        checkout::partial_refunds_give_back_their_part_once,
        checkout::concurrent_orders_never_overspend,
        checkout::birthdays_and_caps_follow_the_calendar,
        checkout::reviewers_see_risk_signals_before_deciding,
        targeting::one_targeting_decides_checkout_analysis_and_reach,
        usage::usage_is_measured_by_kind_and_spares_sold_out_benefits,
        usage::the_usage_policy_is_versioned_and_judges_use_among_buyers,
        standing::every_cell_of_the_standing_table_holds,
        standing::suspension_pauses_live_benefits_until_an_operator_resumes,
        hardening::entities_are_capped_batched_and_missed_one_by_one,
        hardening::fragment_fan_out_is_refused_before_validation,
        hardening::request_errors_carry_the_code_of_their_phase,
        hardening::dates_out_of_range_are_refused_naming_the_argument,
        privacy::small_cohort::tiny_cohorts_are_suppressed_without_numbers,
        privacy::averaging_by_repetition::repeated_questions_get_one_answer_and_one_debit,
        privacy::differencing_overlapping_filters::differences_of_overlapping_answers_stay_noisy,
        privacy::suppressed_cell_from_totals::totals_exclude_suppressed_cells_and_differences_stay_noisy,
        privacy::rewriting_to_dodge_the_store::rewordings_read_the_same_released_tables,
        privacy::budget_exhaustion_and_reset::an_exhausted_budget_says_when_it_resets,
        privacy::parallel_queries_at_budget_edge::parallel_questions_never_overspend,
        privacy::averaging_across_epochs::fresh_epochs_stop_at_the_platform_yearly_budget,
        privacy::what_rivals_asked::a_brands_cost_and_answer_never_show_what_rivals_asked,
        operations::concurrent_starts_apply_each_migration_once,
        operations::two_instances_share_one_database,
    ]
}

/// Tests of HTTP and GraphQL behaviour that no database choice changes.
fn once() -> Vec<(String, TestFn)> {
    tests![
        http::request_errors_are_400_under_graphql_response_json,
        http::legacy_json_clients_get_200_for_request_errors,
        http::unsupported_accept_and_content_types_are_refused,
        http::get_serves_queries_but_not_mutations,
        http::health_metrics_and_request_ids,
        http::the_console_and_graphiql_are_served_from_the_binary,
        http::oversized_bodies_are_413,
        http::rate_limit_answers_429_with_retry_after,
        http::slow_requests_time_out_with_503,
        auth::identity_service_rs256_tokens_are_accepted_when_configured,
        limits::deep_and_complex_queries_are_refused,
        limits::alias_and_root_field_fan_out_is_refused,
        limits::graphiql_introspection_fits_the_limits,
        schema::committed_schema_matches_the_code,
        federation::a_federation_gateway_fetches_our_brand_entities,
        onboarding::the_demo_has_every_state_a_reviewer_meets,
        operations::a_burst_of_connections_waits_in_the_listen_backlog,
        operations::metrics_are_served_only_on_their_own_address,
        operations::secrets_stay_out_of_debug_output,
        due::run_due_command_prints_its_report,
        qualifications::documents_go_to_an_s3_compatible_store,
    ]
}

/// Journeys through the console in a real browser (SQLite only).
fn browser() -> Vec<(String, TestFn)> {
    tests![
        console::an_analyst_asks_and_reads_a_chart,
        console::an_operator_creates_previews_and_submits_a_benefit,
        console::a_reviewer_claims_and_decides,
        console::an_admin_revokes_a_credential_and_its_token_stops,
    ]
}

fn trial(name: String, backend: Backend, test: TestFn) -> Trial {
    Trial::test(name, move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(test(backend));
        Ok(())
    })
}

fn main() -> ExitCode {
    // Server logs on stderr when asked for, e.g. `RUST_LOG=error cargo test`.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .init();
    }
    let args = Arguments::from_args();
    let cluster = match postgres::Cluster::start() {
        Ok(cluster) => cluster,
        Err(why) => {
            eprintln!("PostgreSQL is installed but could not be started: {why}");
            return ExitCode::FAILURE;
        }
    };
    match &cluster {
        Some(cluster) => {
            helpers::PG_ADMIN_URL
                .set(cluster.admin_url().to_owned())
                .ok();
        }
        None => eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !!! PostgreSQL leg SKIPPED: no PostgreSQL server binaries (initdb,   !!!\n\
             !!! pg_ctl) found and TEST_DATABASE_URL is unset. Install PostgreSQL !!!\n\
             !!! to run every test on both engines.                               !!!\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        ),
    }
    let browser_found = browser::find_browser().is_some();
    if !browser_found {
        if std::env::var_os("CI").is_some() {
            eprintln!("CI: chromium and chromedriver are required for the console journeys");
            return ExitCode::FAILURE;
        }
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !!! Console browser journeys SKIPPED: chromium and chromedriver are  !!!\n\
             !!! not on PATH. Install Debian's chromium and chromium-driver.      !!!\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
    }
    let mut trials = Vec::new();
    for (name, test) in per_backend() {
        trials.push(trial(format!("sqlite::{name}"), Backend::Sqlite, test));
        trials.push(
            trial(format!("postgres::{name}"), Backend::Postgres, test)
                .with_ignored_flag(cluster.is_none()),
        );
    }
    for (name, test) in once() {
        trials.push(trial(format!("sqlite::{name}"), Backend::Sqlite, test));
    }
    for (name, test) in browser() {
        trials.push(
            trial(format!("sqlite::{name}"), Backend::Sqlite, test)
                .with_ignored_flag(!browser_found),
        );
    }
    let conclusion = libtest_mimic::run(&args, trials);
    helpers::remove_templates(matches!(cluster, Some(postgres::Cluster::External { .. })));
    drop(cluster);
    conclusion.exit_code()
}
