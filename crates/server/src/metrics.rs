//! Hand-rolled Prometheus metrics (no global recorder: each server state owns its counters, so
//! parallel tests do not interfere).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rustc_hash::FxHashSet;

/// Latency histogram bucket bounds, seconds.
pub const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The service's counters.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
    /// Events stored (duplicates not counted).
    pub events_ingested: AtomicU64,
    /// Version of the model being served.
    pub model_version: AtomicU64,
    /// Recommendation lists answered.
    pub lists_served: AtomicU64,
    served: Mutex<FxHashSet<String>>,
}

impl Metrics {
    /// Count one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let r = routes.entry((method.to_owned(), route.to_owned())).or_default();
        *r.by_status.entry(status).or_insert(0) += 1;
        for (b, le) in r.buckets.iter_mut().zip(BUCKETS) {
            if secs <= le {
                *b += 1;
            }
        }
        r.count += 1;
        r.sum += secs;
    }

    /// Note the items of one recommendation list.
    pub fn note_served<'a>(&self, items: impl Iterator<Item = &'a str>) {
        self.lists_served.fetch_add(1, Ordering::Relaxed);
        let mut s = self.served.lock().unwrap_or_else(|e| e.into_inner());
        for i in items {
            if !s.contains(i) {
                s.insert(i.to_owned());
            }
        }
    }

    /// The Prometheus text exposition; `n_items` is the catalogue size for coverage, `live` the
    /// engine's live-state counters.
    pub fn render(&self, n_items: usize, live: &daogou_engine::LiveStats) -> String {
        let mut o = String::new();
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        o.push_str("# HELP daogou_http_requests_total HTTP requests by route and status.\n");
        o.push_str("# TYPE daogou_http_requests_total counter\n");
        for ((m, p), r) in routes.iter() {
            for (s, n) in &r.by_status {
                let _ = writeln!(o, "daogou_http_requests_total{{method=\"{m}\",route=\"{p}\",status=\"{s}\"}} {n}");
            }
        }
        o.push_str("# HELP daogou_http_request_duration_seconds Request latency by route.\n");
        o.push_str("# TYPE daogou_http_request_duration_seconds histogram\n");
        for ((m, p), r) in routes.iter() {
            let l = format!("method=\"{m}\",route=\"{p}\"");
            for (b, le) in r.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(o, "daogou_http_request_duration_seconds_bucket{{{l},le=\"{le}\"}} {b}");
            }
            let _ = writeln!(o, "daogou_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}", r.count);
            let _ = writeln!(o, "daogou_http_request_duration_seconds_sum{{{l}}} {}", r.sum);
            let _ = writeln!(o, "daogou_http_request_duration_seconds_count{{{l}}} {}", r.count);
        }
        drop(routes);
        let served = self.served.lock().unwrap_or_else(|e| e.into_inner()).len();
        let cov = if n_items == 0 { 0.0 } else { served as f64 / n_items as f64 };
        for (name, kind, help, v) in [
            (
                "daogou_events_ingested_total",
                "counter",
                "Events stored.",
                self.events_ingested.load(Ordering::Relaxed) as f64,
            ),
            (
                "daogou_model_version",
                "gauge",
                "Version of the model being served.",
                self.model_version.load(Ordering::Relaxed) as f64,
            ),
            (
                "daogou_recommendation_lists_total",
                "counter",
                "Recommendation lists answered.",
                self.lists_served.load(Ordering::Relaxed) as f64,
            ),
            ("daogou_recommendation_coverage", "gauge", "Distinct items recommended / items known to the model.", cov),
            ("daogou_live_events", "gauge", "Live events held in memory until a refit.", live.events as f64),
            ("daogou_live_users", "gauge", "Users with live events in memory.", live.users as f64),
            (
                "daogou_live_events_dropped_total",
                "counter",
                "Live events dropped at a cap (live_events_per_user, live_events_total); the store keeps them.",
                live.dropped as f64,
            ),
            (
                "daogou_trending_entries",
                "gauge",
                "(item, shopper) entries of the trending counters.",
                live.trending_entries as f64,
            ),
            (
                "daogou_trending_entries_dropped_total",
                "counter",
                "Trending entries dropped at the cap (the oldest first).",
                live.trending_dropped as f64,
            ),
            (
                "daogou_ingest_requests_total",
                "counter",
                "Event writes (POST /events calls) since start.",
                live.ingest_requests as f64,
            ),
            (
                "daogou_ingest_commits_total",
                "counter",
                "SQLite transactions that committed them: concurrent writes share one (group commit).",
                live.ingest_commits as f64,
            ),
        ] {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        o
    }
}
