//! Bringing a soak up: its working directory and services, the migrated
//! database with its customers, the portal-sim, the fault plan, the fleet
//! and the sampler.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use reporter_core::browser_semaphore::BrowserSemaphore;
use reporter_core::models::slot;
use reporter_core::schedule::slot_instant;
use test_support::private_services::free_port;

use super::ctl::ctl;
use super::services::{fleet_env, settings_of, start_services};
use super::watch::Watch;
use super::{Soak, FIRST_DAY};
use crate::cli::Args;
use crate::customers;
use crate::faults;
use crate::fleet::{Fleet, Role};
use crate::samples::{self, Samples};
use crate::sim::{Sim, SimOptions};

impl Soak {
    /// Brings a soak up, ready for its first day.
    pub(super) async fn start(args: Args) -> anyhow::Result<Soak> {
        let started = Instant::now();
        let first_day: NaiveDate = FIRST_DAY.parse()?;
        let work = match &args.work_dir {
            Some(d) => d.clone(),
            None => std::env::temp_dir().join(format!(
                "reporter-soak-{}-{}",
                Utc::now().format("%Y%m%d-%H%M%S"),
                std::process::id()
            )),
        };
        std::fs::create_dir_all(work.join("logs"))?;
        let bin_dir = match &args.bin_dir {
            Some(d) => d.clone(),
            None => std::env::current_exe()?
                .parent()
                .context("binary directory")?
                .to_path_buf(),
        };
        eprintln!("soak: working in {}", work.display());
        let services = start_services(&work, args.driver)?;
        let api_port = free_port();
        let sim_port = free_port();
        let portal_url = format!("http://127.0.0.1:{sim_port}");
        let env = fleet_env(&args, &services, api_port, &portal_url, &work);
        let settings = settings_of(&env)?;
        let tz = settings.timezone;
        let mut fleet = Fleet::new(&bin_dir, &work.join("logs"), env)?;
        ctl(&fleet, &["migrate"])?;

        let mut rng = StdRng::seed_from_u64(args.seed);
        let mut conn = PgConnection::establish(&services.database_url)?;
        let cfg = slot::config(&mut conn)?;
        let window = cfg.window();
        let hours: Vec<u8> = (window.start()..=window.end())
            .filter(|h| window.contains(*h))
            .map(|h| h as u8)
            .collect();
        let assigned_at = slot_instant(tz, first_day, 0).context("first day's midnight")?;
        let (customers, capacity_raised_to) = customers::create(
            &mut conn,
            &settings,
            &mut rng,
            args.customers,
            &hours,
            assigned_at,
        )?;
        let token = customers::api_token(&mut conn, customers[0].user_id)?;
        drop(conn);
        let accounts_file = work.join("accounts.json");
        customers::write_accounts_file(&accounts_file, &customers)?;
        let sim = Arc::new(
            Sim::start(
                &bin_dir.join("portal-sim"),
                sim_port,
                &SimOptions {
                    seed: args.seed,
                    accounts_file: &accounts_file,
                    start_day: first_day,
                    move_rate: 0.7,
                    max_new_orders: 12,
                    // A killed worker's portal session ends soon, as a browser
                    // session's would with the grid's idle timeout.
                    session_ttl_secs: 60,
                    log: &work.join("logs/portal-sim.log"),
                },
            )
            .await?,
        );
        let busy: BTreeSet<u8> = customers.iter().map(|c| c.hour).collect();
        let busy: Vec<u8> = busy.into_iter().collect();
        let plan = faults::plan(&mut rng, args.faults, args.days, &busy, customers.len());
        sim.set_latency_ms(args.portal_latency_ms).await?;

        fleet.start(Role::Api, "api")?;
        fleet.start(Role::Beat, "beat-1")?;
        fleet.start(Role::Beat, "beat-2")?;
        for w in 1..=args.workers {
            fleet.start(Role::Worker, &format!("worker-{w}"))?;
        }
        let api_url = format!("http://127.0.0.1:{api_port}");
        wait_http(&format!("{api_url}/api/v1/readyz")).await?;

        let day_now = Arc::new(AtomicU32::new(1));
        let samples = Arc::new(Mutex::new(Samples::default()));
        let semaphore = BrowserSemaphore::new(
            reporter_core::redis_conn::connect(&services.redis.url()).await?,
            &settings.redis_prefix,
            settings.max_active_selenium,
            Duration::from_secs(args.lease_secs),
        );
        let sampler = samples::spawn(
            api_url.clone(),
            token,
            sim.clone(),
            semaphore,
            day_now.clone(),
            samples.clone(),
            Duration::from_millis(250),
        );

        Ok(Soak {
            watch: Watch::new(&services.database_url),
            truth: HashMap::new(),
            days: Vec::new(),
            diffs: Vec::new(),
            events: Vec::new(),
            memory: BTreeMap::new(),
            dup_before: 0,
            sampler,
            samples,
            day_now,
            plan,
            sim,
            customers,
            capacity_raised_to,
            hours,
            fleet,
            settings,
            services,
            args,
            started,
            first_day,
            work,
        })
    }
}

async fn wait_http(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("{url} did not answer 200 within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
