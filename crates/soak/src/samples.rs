//! What is sampled while the soak runs: the latency of the customers' slot
//! list (`GET /api/reporter/slots/`) and the portal's open sessions, tagged
//! with the simulated day they fell in.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reporter_core::browser_semaphore::BrowserSemaphore;

use crate::sim::Sim;

#[derive(Default)]
pub struct Samples {
    /// (day, milliseconds) of answered requests.
    pub api_ms: Vec<(u32, f64)>,
    /// The day of each request that failed or answered an error.
    pub api_errors: Vec<u32>,
    /// (day, open portal sessions).
    pub sessions: Vec<(u32, usize)>,
    /// (day, live browser leases in the fleet's semaphore).
    pub leases: Vec<(u32, usize)>,
}

/// The values of `series` on `day` (every day when `None`).
fn on<T: Copy>(series: &[(u32, T)], day: Option<u32>) -> impl Iterator<Item = T> + '_ {
    series
        .iter()
        .filter(move |(d, _)| day.is_none_or(|x| x == *d))
        .map(|(_, v)| *v)
}

fn above(series: &[(u32, usize)], limit: usize) -> usize {
    series.iter().filter(|(_, n)| *n > limit).count()
}

impl Samples {
    pub fn api_of(&self, day: Option<u32>) -> Vec<f64> {
        on(&self.api_ms, day).collect()
    }

    pub fn errors_of(&self, day: Option<u32>) -> usize {
        self.api_errors
            .iter()
            .filter(|d| day.is_none_or(|x| x == **d))
            .count()
    }

    pub fn max_sessions(&self, day: Option<u32>) -> usize {
        on(&self.sessions, day).max().unwrap_or(0)
    }

    pub fn sessions_above(&self, limit: usize) -> usize {
        above(&self.sessions, limit)
    }

    pub fn max_leases(&self, day: Option<u32>) -> usize {
        on(&self.leases, day).max().unwrap_or(0)
    }

    pub fn leases_above(&self, limit: usize) -> usize {
        above(&self.leases, limit)
    }
}

/// The `q` quantile (0..=1) by nearest rank; 0 when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// Samples every `every` until the task is aborted.
pub fn spawn(
    api_url: String,
    token: String,
    sim: Arc<Sim>,
    semaphore: BrowserSemaphore,
    day: Arc<AtomicU32>,
    samples: Arc<Mutex<Samples>>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        let url = format!("{api_url}/api/reporter/slots/");
        loop {
            let d = day.load(Ordering::Relaxed);
            let started = Instant::now();
            let answer = http.get(&url).bearer_auth(&token).send().await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let ok = match answer {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            let sessions = sim.stats().await.ok().map(|s| s.active_sessions);
            let leases = semaphore.in_use().await.ok();
            {
                let mut s = samples.lock().expect("samples lock");
                if ok {
                    s.api_ms.push((d, ms));
                } else {
                    s.api_errors.push(d);
                }
                if let Some(n) = sessions {
                    s.sessions.push((d, n));
                }
                if let Some(n) = leases {
                    s.leases.push((d, n as usize));
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&[3.0], 0.99), 3.0);
        assert_eq!(quantile(&[], 0.99), 0.0);
    }
}
