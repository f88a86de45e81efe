//! Online experiments through the API: definitions checked field by field, start and stop,
//! answers carrying `experiment`, `variant` and `recommendation_id`, attribution by id and by
//! window, results with intervals, deletion, and assignment that survives restarts.

use axum::http::StatusCode;
use daogou_server::{AppState, Config};
use daogou_store::SqliteStore;
use serde_json::{json, Value};

use crate::support::*;

const KNOBS: &str = r#"{"name": "knobs", "primary_metric": "ctr", "variants": [
    {"name": "control", "share": 1},
    {"name": "popular", "share": 1, "popularity_weight": 50, "max_per_category": 1}]}"#;

async fn post(app: &axum::Router, uri: &str, body: &str) -> (StatusCode, Value) {
    call(app, "POST", uri, None, Some(body)).await
}

#[tokio::test]
async fn a_bad_definition_gets_a_400_naming_the_field() {
    let app = app(false);
    let cases = [
        (r#"{"name": "x", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}]}"#, "experiment.variants"),
        (
            r#"{"name": "x", "primary_metric": "clicks", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 1}]}"#,
            "experiment.primary_metric",
        ),
        (
            r#"{"name": "x y", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 1}]}"#,
            "experiment.name",
        ),
        (
            r#"{"name": "x", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 0}]}"#,
            "experiment.variants[1].share",
        ),
        (
            r#"{"name": "x", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}, {"name": "a", "share": 1}]}"#,
            "experiment.variants[1].name",
        ),
        (
            r#"{"name": "x", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 1, "model": "nope"}]}"#,
            "experiment.variants[1].model",
        ),
        (
            r#"{"name": "x", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 1, "explore": 2}]}"#,
            "experiment.variants[1].explore",
        ),
        (
            r#"{"name": "x", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1, "colour": 1}, {"name": "b", "share": 1}]}"#,
            "experiment.variants[0]",
        ),
        (
            r#"{"name": "x", "primary_metric": "ctr", "attribution_window_hours": 0, "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 1}]}"#,
            "experiment.attribution_window_hours",
        ),
    ];
    for (body, field) in cases {
        let (st, v) = post(&app, "/admin/experiments", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v["message"].as_str().unwrap().starts_with(field), "{body}: {v}");
    }
    // the action form: `start` or `stop` with a name, nothing else
    for (body, field) in [
        (r#"{"name": "knobs", "action": "pause"}"#, "experiment.action"),
        (r#"{"name": "knobs", "action": "start", "variants": []}"#, "experiment.variants"),
        (r#"{"name": "a b", "action": "stop"}"#, "experiment.name"),
    ] {
        let (st, v) = post(&app, "/admin/experiments", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v["message"].as_str().unwrap().starts_with(field), "{body}: {v}");
    }
    let (st, v) = post(&app, "/admin/experiments/nope/start", "").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = post(&app, "/admin/experiments", r#"{"name": "nope", "action": "start"}"#).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(call(&app, "GET", "/experiments/nope", None, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, "GET", "/experiments/a%20b", None, None).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn experiment_routes_need_the_admin_scope_to_change_and_read_to_look() {
    let app = app(true);
    let (st, _) = call(&app, "POST", "/admin/experiments", Some(WRITE), Some(KNOBS)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = call(&app, "POST", "/admin/experiments", Some(ADMIN), Some(KNOBS)).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = call(&app, "GET", "/experiments/knobs", Some(READ), None).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("draft")));
    let (st, _) = call(&app, "POST", "/admin/experiments/knobs/start", Some(READ), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

/// The users of the fixture shop.
fn users() -> Vec<String> {
    (0..12).flat_map(|i| [format!("su{i}"), format!("ru{i}")]).collect()
}

#[tokio::test]
async fn answers_carry_the_keys_and_events_are_attributed() {
    let (app, state) = app_on(store(&[]), config(false));
    assert_eq!(post(&app, "/admin/experiments", KNOBS).await.0, StatusCode::CREATED);
    assert_eq!(post(&app, "/admin/experiments", KNOBS).await.0, StatusCode::CONFLICT, "names are unique");
    // not running yet: plain answers
    let v = get(&app, "/users/su0/recommendations?n=3").await;
    assert!(v.get("experiment").is_none() && v.get("recommendation_id").is_none(), "{v}");
    // started by the action form of POST /admin/experiments (the path form is used below)
    let (st, v) = post(&app, "/admin/experiments", r#"{"name": "knobs", "action": "start"}"#).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("running")), "{v}");
    assert_eq!(post(&app, "/admin/experiments/knobs/start", "").await.0, StatusCode::CONFLICT);
    let other = r#"{"name": "other", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 1}]}"#;
    assert_eq!(post(&app, "/admin/experiments", other).await.0, StatusCode::CREATED);
    let (st, v) = post(&app, "/admin/experiments/other/start", "").await;
    assert_eq!(st, StatusCode::CONFLICT, "one experiment at a time: {v}");

    // every user gets the keys; both variants are used
    let mut shown: Vec<(String, String, String, Vec<String>)> = Vec::new();
    for u in users() {
        let v = get(&app, &format!("/users/{u}/recommendations?n=3")).await;
        assert_eq!(v["experiment"], "knobs", "{v}");
        let variant = v["variant"].as_str().unwrap().to_owned();
        assert!(variant == "control" || variant == "popular");
        let rec = v["recommendation_id"].as_str().unwrap().to_owned();
        assert!(rec.starts_with('r'), "{rec}");
        // the same user always lands in the same variant
        let again = get(&app, &format!("/users/{u}/recommendations?n=3")).await;
        assert_eq!(again["variant"], v["variant"]);
        assert_ne!(again["recommendation_id"], v["recommendation_id"], "each list has its own id");
        shown.push((u, variant, rec, ids(&v)));
    }
    assert!(shown.iter().any(|s| s.1 == "control") && shown.iter().any(|s| s.1 == "popular"), "{shown:?}");

    // a click with the recommendation id, a purchase without (by window), one on an item never
    // shown, and a malformed id
    let (u, variant, rec, items) = shown.iter().find(|s| s.3.len() >= 2).unwrap().clone();
    let (st, v) = post(
        &app,
        "/events",
        &json!([
            {"user": u, "item": items[0], "kind": "click", "recommendation_id": rec},
            {"user": u, "item": items[1], "kind": "purchase", "value": 2},
            {"user": u, "item": "b5", "kind": "purchase"}
        ])
        .to_string(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let shown_b5 = items.iter().any(|i| i == "b5");
    assert_eq!(v["attributed"], if shown_b5 { 3 } else { 2 }, "{v}");
    // outside the window (25 h after the list, or before it) an event without id counts for nothing
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (st, v) = post(
        &app,
        "/events",
        &json!([
            {"user": u, "item": items[0], "kind": "add_to_cart", "timestamp": now + 25 * 3_600},
            {"user": u, "item": items[0], "kind": "add_to_cart", "timestamp": now - 3_600}
        ])
        .to_string(),
    )
    .await;
    assert_eq!((st, v["attributed"].as_u64()), (StatusCode::OK, Some(0)), "{v}");
    let (st, v) = post(
        &app,
        "/events",
        &json!({"user": u, "item": items[0], "kind": "click", "recommendation_id": "x1"}).to_string(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().starts_with("event.recommendation_id"), "{v}");

    let r = get(&app, "/experiments/knobs").await;
    assert_eq!(r["status"], "running");
    assert_eq!(r["primary_metric"], "ctr");
    let vs = r["variants"].as_array().unwrap();
    assert_eq!(vs.len(), 2);
    let mine = vs.iter().find(|x| x["name"] == variant.as_str()).unwrap();
    assert_eq!(mine["clicks"], 1.0, "{mine}");
    assert!(mine["purchases"].as_f64().unwrap() >= 1.0);
    let price = catalogue().iter().find(|i| i.id == items[1]).unwrap().price.unwrap();
    assert!(mine["revenue"].as_f64().unwrap() >= 2.0 * price - 1e-9, "price × quantity: {mine}");
    let users_total: u64 = vs.iter().map(|x| x["users"].as_u64().unwrap()).sum();
    assert_eq!(users_total, 24);
    let lists: f64 = vs.iter().map(|x| x["lists"].as_f64().unwrap()).sum();
    assert_eq!(lists, 48.0, "two lists per user");
    for key in ["ctr", "add_to_cart_rate", "conversion_rate", "revenue_per_user"] {
        let e = &mine["metrics"][key];
        assert!(e["ci_low"].as_f64().unwrap() <= e["value"].as_f64().unwrap(), "{key}: {e}");
        assert!(e["value"].as_f64().unwrap() <= e["ci_high"].as_f64().unwrap(), "{key}: {e}");
    }
    assert_eq!(r["comparisons"][0]["variant"], "popular");
    assert!(r["comparisons"][0]["p_value"].as_f64().unwrap() <= 1.0);
    assert!(r["srm"]["p_value"].is_number() && r["srm"]["alarm"].is_boolean());
    assert!(!r["timeline"].as_array().unwrap().is_empty());
    assert_eq!(r["definition"]["variants"][1]["popularity_weight"], 50.0);
    let list = get(&app, "/experiments").await;
    assert_eq!(list["experiments"].as_array().unwrap().len(), 2);

    // the variant's knob is what made its answer: once stopped, the plain answer with the same
    // knob in the query is the same list
    let (st, v) = post(&app, "/admin/experiments", r#"{"name": "knobs", "action": "stop"}"#).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("stopped")));
    assert_eq!(post(&app, "/admin/experiments/knobs/start", "").await.0, StatusCode::CONFLICT, "final");
    let mut compared = 0;
    for (u2, variant2, _, items2) in shown.iter().filter(|s| s.0 != u) {
        let knob = if variant2 == "popular" { "&popularity_weight=50&max_per_category=1" } else { "" };
        let after = get(&app, &format!("/users/{u2}/recommendations?n=3{knob}")).await;
        assert!(after.get("experiment").is_none(), "{after}");
        assert_eq!(&ids(&after), items2, "{u2} in {variant2}");
        compared += 1;
    }
    assert_eq!(compared, 23);
    // the knob changes lists: the two variants did not answer alike for everyone
    let differs = knob_changes_a_list(&app).await;
    assert!(differs, "the variant's knobs change some list");
    drop(state);
}

async fn knob_changes_a_list(app: &axum::Router) -> bool {
    for u in users() {
        let plain = get(app, &format!("/users/{u}/recommendations?n=3")).await;
        let knob = get(app, &format!("/users/{u}/recommendations?n=3&popularity_weight=50&max_per_category=1")).await;
        if ids(&plain) != ids(&knob) {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn the_variant_knob_and_model_make_the_answer() {
    let (app, _state) = app_on(store(&[]), config(false));
    let def = r#"{"name": "models", "primary_metric": "conversion_rate", "variants": [
        {"name": "knn", "share": 1},
        {"name": "pop", "share": 1, "model": "popularity", "max_per_category": 1}]}"#;
    assert_eq!(post(&app, "/admin/experiments", def).await.0, StatusCode::CREATED);
    assert_eq!(post(&app, "/admin/experiments/models/start", "").await.0, StatusCode::OK);
    let mut seen = std::collections::BTreeSet::new();
    for u in users() {
        let v = get(&app, &format!("/users/{u}/recommendations?n=4")).await;
        let variant = v["variant"].as_str().unwrap();
        seen.insert(variant.to_owned());
        if variant == "pop" {
            assert_eq!(v["model"], "popularity", "{v}");
            let cats: Vec<&str> =
                v["items"].as_array().unwrap().iter().map(|p| p["category"].as_str().unwrap_or("")).collect();
            let distinct: std::collections::BTreeSet<_> = cats.iter().collect();
            assert_eq!(distinct.len(), cats.len(), "max_per_category 1: {cats:?}");
        } else {
            assert_eq!(v["model"], "item-knn", "{v}");
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    // anonymous sessions: by session id
    let (st, v) = post(&app, "/sessions/recommendations", r#"{"items": ["s0"], "session": "sess-1"}"#).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["experiment"], "models");
    assert!(v["recommendation_id"].is_string() && v["variant"].is_string());
    let (_, again) = post(&app, "/sessions/recommendations", r#"{"items": ["s1"], "session": "sess-1"}"#).await;
    assert_eq!(again["variant"], v["variant"]);
    let (_, plain) = post(&app, "/sessions/recommendations", r#"{"items": ["s0"]}"#).await;
    assert!(plain.get("experiment").is_none(), "{plain}");
}

#[tokio::test]
async fn deleting_a_user_deletes_their_exposures() {
    let (app, state) = app_on(store(&[]), config(false));
    assert_eq!(post(&app, "/admin/experiments", KNOBS).await.0, StatusCode::CREATED);
    assert_eq!(post(&app, "/admin/experiments/knobs/start", "").await.0, StatusCode::OK);
    let v = get(&app, "/users/su1/recommendations?n=3").await;
    let item = ids(&v)[0].clone();
    post(&app, "/events", &json!({"user": "su1", "item": item, "kind": "click"}).to_string()).await;
    get(&app, "/users/su2/recommendations?n=3").await;
    assert_eq!(state.engine.store().exposures_of("su1").unwrap(), 1);
    let (st, _) = call(&app, "DELETE", "/users/su1", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(state.engine.store().exposures_of("su1").unwrap(), 0);
    assert_eq!(state.engine.store().exposures_of("su2").unwrap(), 1);
    let r = get(&app, "/experiments/knobs").await;
    let users: u64 = r["variants"].as_array().unwrap().iter().map(|x| x["users"].as_u64().unwrap()).sum();
    let clicks: f64 = r["variants"].as_array().unwrap().iter().map(|x| x["clicks"].as_f64().unwrap()).sum();
    assert_eq!((users, clicks), (1, 0.0), "{r}");
}

/// The variant of every fixture user, as the service answers.
async fn variants(app: &axum::Router) -> Vec<String> {
    let mut out = Vec::new();
    for u in users().into_iter().chain((0..40).map(|i| format!("new-shopper-{i}"))) {
        let v = get(app, &format!("/users/{u}/recommendations?n=2")).await;
        out.push(format!("{u}:{}", v["variant"].as_str().unwrap()));
    }
    out
}

#[tokio::test]
async fn assignment_is_identical_across_three_restarts_and_on_a_second_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    {
        let mut s = SqliteStore::open(&db).unwrap();
        use daogou_store::Store;
        s.upsert_items(&catalogue()).unwrap();
        s.insert_events(&events(&[])).unwrap();
    }
    let open = || {
        let state = AppState::new(SqliteStore::open(&db).unwrap(), Config::default()).unwrap();
        daogou_server::router(state)
    };
    let first = open();
    assert_eq!(post(&first, "/admin/experiments", KNOBS).await.0, StatusCode::CREATED);
    assert_eq!(post(&first, "/admin/experiments/knobs/start", "").await.0, StatusCode::OK);
    let before = variants(&first).await;
    assert!(before.iter().any(|v| v.ends_with(":control")) && before.iter().any(|v| v.ends_with(":popular")));
    drop(first);
    for restart in 1..=3 {
        let app = open();
        let r = get(&app, "/experiments/knobs").await;
        assert_eq!(r["status"], "running", "restart {restart}: still running");
        assert_eq!(variants(&app).await, before, "restart {restart}");
        // a second server on the same store at the same time agrees
        let twin = open();
        assert_eq!(variants(&twin).await, before, "restart {restart}, second server");
    }
    // the exposures of every answer above are stored: 7 passes over 64 units
    let app = open();
    let r = get(&app, "/experiments/knobs").await;
    let lists: f64 = r["variants"].as_array().unwrap().iter().map(|x| x["lists"].as_f64().unwrap()).sum();
    assert_eq!(lists, 64.0 * 7.0, "{r}");
}

/// Shoppers of a generated shop go through the real API: each is shown a list, clicks what
/// belongs to their planted tastes far more often than the rest, and buys some of it. The
/// control answers with popular items, the treatment with the personal model; the service must
/// count exactly what was sent and find the personal lists better.
#[tokio::test]
async fn a_simulated_a_b_test_through_the_service_finds_the_better_variant() {
    use daogou_data::synth::{generate_shop, ShopConfig};
    use daogou_store::Store;
    let shop = generate_shop(&ShopConfig { users: 300, items: 240, days: 30, ..ShopConfig::default() });
    let mut s = SqliteStore::open_in_memory().unwrap();
    s.import(&shop.items, &shop.events).unwrap();
    // a fixed assignment salt (a new store draws one at random): the sample-ratio check below
    // would otherwise raise its false alarm in 1 run of 1,000 (p < 0.001 by chance, seen on 12-07)
    let salt = "5a".repeat(32);
    s.conn()
        .execute("UPDATE meta SET value = ?1 WHERE key = ?2", [salt.as_str(), daogou_store::EXPERIMENT_SALT_META])
        .unwrap();
    assert!(
        daogou_store::ExperimentStore::experiment_salt(&s).unwrap()
            == daogou_store::ExperimentSalt::from_bytes([0x5a; 32])
    );
    let (app, _state) = app_on(s, config(false));
    let def = r#"{"name": "sim", "primary_metric": "ctr", "variants": [
        {"name": "popular", "share": 1, "model": "popularity"},
        {"name": "personal", "share": 1}]}"#;
    assert_eq!(post(&app, "/admin/experiments", def).await.0, StatusCode::CREATED);
    assert_eq!(post(&app, "/admin/experiments/sim/start", "").await.0, StatusCode::OK);
    let category: std::collections::HashMap<&str, Option<&String>> =
        shop.items.iter().map(|it| (it.id.as_str(), it.category.as_ref())).collect();
    let price: std::collections::HashMap<&str, f64> =
        shop.items.iter().map(|it| (it.id.as_str(), it.price.unwrap_or(0.0))).collect();
    let mut users: Vec<&str> = shop.truth.user_segment.iter().map(|(u, _)| u.as_str()).collect();
    users.dedup();
    let mut rng = daogou_core::SeededRng::new(17);
    // per variant: (clicks sent, purchases sent, revenue sent, impressions, expected clicks)
    let mut sent: std::collections::BTreeMap<String, (f64, f64, f64, f64, f64)> = Default::default();
    for u in &users {
        let liked: Vec<&String> =
            shop.truth.segments_of(u).iter().flat_map(|seg| shop.truth.categories_of(seg)).collect();
        let v = get(&app, &format!("/users/{u}/recommendations?n=10")).await;
        let rec = v["recommendation_id"].as_str().unwrap();
        let e = sent.entry(v["variant"].as_str().unwrap().to_owned()).or_default();
        let mut events = Vec::new();
        for item in ids(&v) {
            let likes = category[item.as_str()].is_some_and(|c| liked.contains(&c));
            let p = if likes { 0.3 } else { 0.05 };
            e.3 += 1.0;
            e.4 += p;
            if rng.f64() < p {
                e.0 += 1.0;
                events.push(json!({"user": u, "item": item, "kind": "click", "recommendation_id": rec}));
                if rng.f64() < 0.3 {
                    // bought without the id: attributed by the window
                    e.1 += 1.0;
                    e.2 += price[item.as_str()];
                    events.push(json!({"user": u, "item": item, "kind": "purchase"}));
                }
            }
        }
        if !events.is_empty() {
            let (st, r) = post(&app, "/events", &Value::Array(events.clone()).to_string()).await;
            assert_eq!((st, r["attributed"].as_u64()), (StatusCode::OK, Some(events.len() as u64)), "{r}");
        }
    }
    let r = get(&app, "/experiments/sim").await;
    assert!(!r["srm"]["alarm"].as_bool().unwrap(), "{}", r["srm"]);
    for v in r["variants"].as_array().unwrap() {
        let (clicks, buys, revenue, impressions, expected) = sent[v["name"].as_str().unwrap()];
        assert_eq!(v["clicks"].as_f64().unwrap(), clicks, "{v}");
        assert_eq!(v["purchases"].as_f64().unwrap(), buys, "{v}");
        assert!((v["revenue"].as_f64().unwrap() - revenue).abs() < 1e-6 * revenue.max(1.0), "{v}");
        assert_eq!(v["impressions"].as_f64().unwrap(), impressions, "{v}");
        // the click rate the shoppers were given lies within the reported interval's reach
        let ctr = &v["metrics"]["ctr"];
        let truth = expected / impressions;
        let (value, se) = (ctr["value"].as_f64().unwrap(), ctr["std_error"].as_f64().unwrap());
        assert!((value - truth).abs() < 3.0 * se, "{} ctr {value} ± {se}, given {truth}", v["name"]);
    }
    let users_total: u64 = r["variants"].as_array().unwrap().iter().map(|v| v["users"].as_u64().unwrap()).sum();
    assert_eq!(users_total, users.len() as u64);
    let c = &r["comparisons"][0];
    assert_eq!(c["variant"], "personal");
    assert!(c["diff"]["value"].as_f64().unwrap() > 0.0, "{c}");
    assert!(c["significant"].as_bool().unwrap() && c["p_value"].as_f64().unwrap() < 0.05, "{c}");
}

#[tokio::test]
async fn servers_sharing_a_configured_salt_but_not_a_store_assign_alike() {
    let with = |salt: &str| {
        let mut c = config(false);
        c.set("experiment_salt", salt).unwrap();
        app_on(store(&[]), c).0
    };
    assert!(config(false).set("experiment_salt", "short").is_err(), "at least 16 characters");
    let mut seen = Vec::new();
    for salt in ["one shared secret salt", "one shared secret salt", "another secret salt!"] {
        let app = with(salt);
        assert_eq!(post(&app, "/admin/experiments", KNOBS).await.0, StatusCode::CREATED);
        assert_eq!(post(&app, "/admin/experiments/knobs/start", "").await.0, StatusCode::OK);
        seen.push(variants(&app).await);
    }
    assert_eq!(seen[0], seen[1], "two stores, one configured salt");
    assert_ne!(seen[0], seen[2], "another salt, another split");
    // without the setting each in-memory store has its own random salt
    let (a, b) = (app(false), app(false));
    for x in [&a, &b] {
        post(x, "/admin/experiments", KNOBS).await;
        post(x, "/admin/experiments/knobs/start", "").await;
    }
    assert_ne!(variants(&a).await, variants(&b).await);
}

#[tokio::test]
async fn a_variant_with_its_own_model_answers_in_real_time_across_refits() {
    let (app, _state) = app_on(store(&[]), config(false));
    let def = r#"{"name": "own", "primary_metric": "ctr", "variants": [
        {"name": "a", "share": 1, "model": "item-knn", "params": {"k": 10}},
        {"name": "b", "share": 1, "model": "item-knn", "params": {"k": 12}}]}"#;
    assert_eq!(post(&app, "/admin/experiments", def).await.0, StatusCode::CREATED);
    assert_eq!(post(&app, "/admin/experiments/own/start", "").await.0, StatusCode::OK);
    let before = get(&app, "/users/su0/recommendations?n=3").await;
    assert_eq!(before["realtime"], false, "{before}");
    // a new event, then the serving model refits (it folds the event in, the variant's does not)
    let (st, _) = post(&app, "/events", r#"{"user": "su0", "item": "b0", "kind": "purchase"}"#).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = post(&app, "/admin/retrain?wait=true", "").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let after = get(&app, "/users/su0/recommendations?n=3").await;
    assert_eq!(after["realtime"], true, "the variant's model still sees the event live: {after}");
    assert!(after["items"].as_array().unwrap().iter().all(|p| p["item"] != "b0"), "bought: not recommended");
    // the serving model itself has it in its training data now: stopped, the answer is not real time
    assert_eq!(post(&app, "/admin/experiments/own/stop", "").await.0, StatusCode::OK);
    let plain = get(&app, "/users/su0/recommendations?n=3").await;
    assert_eq!(plain["realtime"], false, "{plain}");
}
