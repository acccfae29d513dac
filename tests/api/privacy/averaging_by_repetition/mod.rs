#![doc = include_str!("readme.md")]

use std::sync::Arc;

use brand_gateway::auth::Role;
use serde_json::json;

use super::spent;
use crate::helpers::{Backend, TestApp};

pub(crate) async fn repeated_questions_get_one_answer_and_one_debit(backend: Backend) {
    let app = Arc::new(TestApp::spawn_with(backend, &["--rate-limit-burst", "500"]).await);
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let question = json!({ "population": "STORE", "breakdown": ["CITY_TIER"], "metrics": ["PAID_MEMBER_SHARE"] });
    let first = app.answer(&token, question.clone()).await;
    assert!((spent(&first) - 0.2).abs() < 1e-9);
    for _ in 0..50 {
        let again = app.answer(&token, question.clone()).await;
        assert_eq!(again["cells"], first["cells"]);
        assert_eq!(spent(&again), 0.0);
    }
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, token, question) = (app.clone(), token.clone(), question.clone());
            tokio::spawn(async move { app.answer(&token, question).await })
        })
        .collect();
    for task in tasks {
        let again = task.await.expect("task");
        assert_eq!(again["cells"], first["cells"]);
    }
    assert_eq!(app.spend_count(&token).await, 1);
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
}
