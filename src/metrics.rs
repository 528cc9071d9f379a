//! Prometheus metrics: HTTP requests and latency per route and status, what the core created,
//! image processing time, rate-limit refusals and the database size. Served as text on a
//! separate listener (`[metrics] listen`), never on the public one.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/api/posts/{id}`), never the raw path: bounded cardinality.
    pub route: String,
    pub status: u16,
}

/// Which certificate: `acme` or `static` (`[tls]`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CertificateLabels {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    rate_limited: Family<RouteLabels, Counter>,
    pub posts_created: Counter,
    pub votes_cast: Counter,
    pub comments_created: Counter,
    pub image_processing: Histogram,
    database_bytes: Gauge,
    database: PathBuf,
    analytics_builds: Counter,
    analytics_build_ms: Gauge,
    analytics_bytes: Gauge,
    /// Present only while HTTPS is served, so a server without TLS reports no expiry at all.
    certificate_expiry: Family<CertificateLabels, Gauge>,
}

impl Metrics {
    pub fn new(data_dir: &std::path::Path) -> Self {
        let mut registry = Registry::with_prefix("aistagram");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            // 0.5 ms … ~16 s.
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let rate_limited = Family::<RouteLabels, Counter>::default();
        let image_processing = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        let (posts_created, votes_cast, comments_created) =
            (Counter::default(), Counter::default(), Counter::default());
        let database_bytes = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route and status",
            latency.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused with 429, by route",
            rate_limited.clone(),
        );
        registry.register("posts_created", "Posts created", posts_created.clone());
        registry.register(
            "votes_cast",
            "Votes cast (including changes)",
            votes_cast.clone(),
        );
        registry.register(
            "comments_created",
            "Comments created",
            comments_created.clone(),
        );
        registry.register(
            "image_processing_seconds",
            "Time to decode an upload and make its variants",
            image_processing.clone(),
        );
        registry.register(
            "database_bytes",
            "Size of the database file",
            database_bytes.clone(),
        );
        let (analytics_builds, analytics_build_ms, analytics_bytes) =
            (Counter::default(), Gauge::default(), Gauge::default());
        registry.register(
            "analytics_builds",
            "Analytics snapshots built",
            analytics_builds.clone(),
        );
        registry.register(
            "analytics_build_milliseconds",
            "Time the latest analytics snapshot took to build, read included",
            analytics_build_ms.clone(),
        );
        registry.register(
            "analytics_snapshot_bytes",
            "Size of the latest analytics snapshot's answers, as JSON",
            analytics_bytes.clone(),
        );
        let certificate_expiry = Family::<CertificateLabels, Gauge>::default();
        registry.register(
            "tls_certificate_expiry_timestamp_seconds",
            "When the served TLS certificate expires, as a Unix time (alert on it minus time())",
            certificate_expiry.clone(),
        );
        Metrics {
            registry,
            certificate_expiry,
            analytics_builds,
            analytics_build_ms,
            analytics_bytes,
            requests,
            latency,
            rate_limited,
            posts_created,
            votes_cast,
            comments_created,
            image_processing,
            database_bytes,
            database: data_dir.join("aistagram.redb"),
        }
    }

    /// Records a finished analytics snapshot.
    pub fn analytics_built(&self, build_ms: u64, bytes: usize) {
        self.analytics_builds.inc();
        self.analytics_build_ms
            .set(i64::try_from(build_ms).unwrap_or(i64::MAX));
        self.analytics_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Records the served certificate's expiry (`not_after`, Unix seconds).
    pub fn set_certificate_expiry(&self, source: &str, not_after: i64) {
        self.certificate_expiry
            .get_or_create(&CertificateLabels {
                source: source.to_owned(),
            })
            .set(not_after);
    }

    fn observe(&self, labels: RequestLabels, took: Duration) {
        if labels.status == 429 {
            self.rate_limited
                .get_or_create(&RouteLabels {
                    route: labels.route.clone(),
                })
                .inc();
        }
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let size = std::fs::metadata(&self.database).map_or(0, |m| m.len());
        self.database_bytes
            .set(i64::try_from(size).unwrap_or(i64::MAX));
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            tracing::error!("could not encode metrics");
        }
        out
    }
}

/// Middleware: times every request and counts it under its route template.
pub async fn track(State(m): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    m.observe(
        RequestLabels {
            method,
            route,
            status: res.status().as_u16(),
        },
        started.elapsed(),
    );
    res
}

/// GET /metrics on the metrics listener.
pub async fn serve(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
}
