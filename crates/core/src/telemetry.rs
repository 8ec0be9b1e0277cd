//! One tracing setup for every binary: human-readable by default, JSON when
//! `LOG_FORMAT=json`; the filter comes from `RUST_LOG` (default `info`).

use tracing_subscriber::{fmt, EnvFilter};

pub fn init(json: bool) {
    init_with(json, std::io::stdout);
}

/// For command-line tools whose stdout is their output (JSON reports):
/// logs go to stderr.
pub fn init_stderr(json: bool) {
    init_with(json, std::io::stderr);
}

fn init_with<W>(json: bool, writer: W)
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(writer);
    // try_init: tests and embedded uses may have set a subscriber already.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// Reads `LOG_FORMAT` directly, for logging before the settings are loaded.
pub fn init_from_env() {
    init(
        std::env::var("LOG_FORMAT")
            .map(|v| v == "json")
            .unwrap_or(false),
    );
}
