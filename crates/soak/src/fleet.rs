//! The soak's processes: the release binaries of the fleet, started with one
//! environment, each logging to a file of its own, and the signals the fault
//! schedule sends them.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// What a process is, which decides its binary and arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Api,
    Beat,
    Worker,
}

impl Role {
    fn binary(self) -> &'static str {
        match self {
            Role::Api => "reporter-api",
            Role::Beat => "reporter-beat",
            Role::Worker => "reporter-worker",
        }
    }
}

/// One running (or ended) process. `slot` names its place in the fleet
/// (`worker-2`): a replacement takes the slot of the process it replaces, so
/// memory readings stay comparable across replacements.
pub struct Proc {
    pub slot: String,
    pub role: Role,
    pub child: Child,
    pub log: PathBuf,
    /// How many processes this slot has had before this one.
    pub generation: u32,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

pub struct Fleet {
    bin_dir: PathBuf,
    log_dir: PathBuf,
    env: Vec<(String, String)>,
    pub procs: BTreeMap<String, Proc>,
}

pub use test_support::signal;

/// Resident memory of a process in KiB (`VmRSS`), if it is alive.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

impl Fleet {
    pub fn new(bin_dir: &Path, log_dir: &Path, env: Vec<(String, String)>) -> anyhow::Result<Self> {
        for role in [Role::Api, Role::Beat, Role::Worker] {
            let bin = bin_dir.join(role.binary());
            if !bin.exists() {
                bail!(
                    "{} not found: build the fleet first (scripts/soak.sh builds release binaries)",
                    bin.display()
                );
            }
        }
        std::fs::create_dir_all(log_dir)?;
        Ok(Fleet {
            bin_dir: bin_dir.to_path_buf(),
            log_dir: log_dir.to_path_buf(),
            env,
            procs: BTreeMap::new(),
        })
    }

    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Starts the process of `slot` (replacing a dead one's record).
    pub fn start(&mut self, role: Role, slot: &str) -> anyhow::Result<()> {
        let generation = self.procs.get(slot).map_or(0, |p| p.generation + 1);
        let p = self.spawn(role, slot, generation)?;
        self.procs.insert(slot.to_string(), p);
        Ok(())
    }

    fn spawn(&self, role: Role, slot: &str, generation: u32) -> anyhow::Result<Proc> {
        let log = self.log_dir.join(format!("{slot}.{generation}.log"));
        let out = File::create(&log)?;
        let child = Command::new(self.bin(role.binary()))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", role.binary()))?;
        Ok(Proc {
            slot: slot.to_string(),
            role,
            child,
            log,
            generation,
        })
    }

    /// Every slot of `role`, in name order.
    pub fn slots(&self, role: Role) -> Vec<String> {
        self.procs
            .values()
            .filter(|p| p.role == role)
            .map(|p| p.slot.clone())
            .collect()
    }

    pub fn pid(&self, slot: &str) -> Option<u32> {
        self.procs.get(slot).map(Proc::pid)
    }

    pub fn signal(&self, slot: &str, sig: &str) {
        if let Some(p) = self.procs.get(slot) {
            signal(p.pid(), sig);
        }
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self, slot: &str) {
        if let Some(p) = self.procs.get_mut(slot) {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }

    /// A rolling restart of one slot: SIGTERM the old process, start its
    /// replacement at once (as a deploy starts the new container), and wait
    /// up to `grace` for the old one to hand its work back and exit.
    /// Returns how long the old process took.
    pub fn replace(&mut self, slot: &str, grace: Duration) -> anyhow::Result<Duration> {
        let mut old = self.procs.remove(slot).context("no such slot")?;
        signal(old.pid(), "TERM");
        let started = Instant::now();
        let new = self.spawn(old.role, slot, old.generation + 1)?;
        self.procs.insert(slot.to_string(), new);
        while old.alive() && started.elapsed() < grace {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = old.child.kill();
        let _ = old.child.wait();
        Ok(started.elapsed())
    }

    /// Slots whose process exited on its own (a crash), with their log.
    pub fn crashed(&mut self) -> Vec<(String, PathBuf)> {
        self.procs
            .values_mut()
            .filter_map(|p| (!p.alive()).then(|| (p.slot.clone(), p.log.clone())))
            .collect()
    }

    pub fn stop_all(&mut self) {
        let slots: Vec<String> = self.procs.keys().cloned().collect();
        for slot in &slots {
            self.signal(slot, "CONT");
            self.signal(slot, "TERM");
        }
        let start = Instant::now();
        for slot in &slots {
            if let Some(p) = self.procs.get_mut(slot) {
                while p.alive() && start.elapsed() < Duration::from_secs(15) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for p in self.procs.values_mut() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// A process outside the reporter fleet (portal-sim, chromedriver), killed
/// on drop.
pub struct Helper {
    pub child: Child,
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
