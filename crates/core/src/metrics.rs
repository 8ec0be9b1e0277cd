//! Prometheus metrics: one recorder per process. The API renders it on
//! `GET /metrics`; workers and beat serve it on `REPORTER_METRICS_BIND`.

use std::net::SocketAddr;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: static buckets are valid"
)]
fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), DURATION_BUCKETS)
        .expect("static buckets are valid")
}

/// Installs the process-wide recorder once and returns its handle (later
/// calls, e.g. several test servers in one process, share it).
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: installed once, by this OnceLock"
)]
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        builder()
            .install_recorder()
            .expect("no other metrics recorder installed")
    })
}

/// For workers and beat: serve `/metrics` on `addr`. Needs a Tokio runtime.
pub fn serve(addr: SocketAddr) -> Result<(), metrics_exporter_prometheus::BuildError> {
    builder().with_http_listener(addr).install()
}
