//! A Redis server and a PostgreSQL cluster of the caller's own, in a
//! directory it owns, so a test or the soak may restart them without
//! touching the machine's shared services.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("local address")
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `redis-server` with its append-only file, as production runs it: a
/// SIGTERM flushes the file, so a restart loses nothing.
pub struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Remove `dir` on drop (it was made here, not given).
    owns_dir: bool,
}

impl PrivateRedis {
    /// In a fresh temporary directory, removed on drop.
    pub fn start() -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("reporter-redis-{port}-{}", std::process::id()));
        Self::start_in(port, dir, true)
    }

    /// In `dir` (kept on drop: the caller's logs live next to it).
    pub fn start_at(dir: &Path) -> Self {
        Self::start_in(free_port(), dir.to_path_buf(), false)
    }

    fn start_in(port: u16, dir: PathBuf, owns_dir: bool) -> Self {
        std::fs::create_dir_all(&dir).expect("create the Redis directory");
        let mut r = PrivateRedis {
            port,
            dir,
            child: None,
            owns_dir,
        };
        r.spawn();
        r
    }

    pub fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        self.child = Some(child);
        wait_for_port(self.port, "private redis");
    }

    /// SIGTERM: Redis flushes its append-only file and exits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            crate::signal(c.id(), "TERM");
            let _ = c.wait();
        }
    }

    /// Stops Redis, then it comes back after `down_for`.
    pub fn restart(&mut self, down_for: Duration) {
        self.stop();
        std::thread::sleep(down_for);
        self.spawn();
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A PostgreSQL cluster in a directory of its own, run as the `postgres`
/// user when the caller is root (the server refuses to run as root).
pub struct PrivatePg {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
    owns_dir: bool,
}

/// The newest server binaries Debian installed.
pub fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql (scripts/test.sh installs them)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl")
}

fn as_postgres(bin: &Path, args: &[&str]) -> std::process::ExitStatus {
    let me_is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = if me_is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    c.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run a PostgreSQL tool")
}

impl PrivatePg {
    /// In a fresh temporary directory, removed on drop.
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("reporter-pg-{port}-{}", std::process::id()));
        Self::start_in(port, dir, true)
    }

    /// In `dir` (kept on drop, the server stopped).
    pub fn start_at(dir: &Path) -> Self {
        Self::start_in(free_port(), dir.to_path_buf(), false)
    }

    fn start_in(port: u16, dir: PathBuf, owns_dir: bool) -> Self {
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        let _ = Command::new("chown")
            .args(["postgres:postgres", dir.to_str().expect("UTF-8 path")])
            .status();
        let bin = pg_bin();
        let data = dir.join("data");
        let ok = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().expect("UTF-8 path"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        assert!(ok.success(), "initdb failed in {}", dir.display());
        let pg = PrivatePg {
            port,
            dir,
            bin,
            owns_dir,
        };
        pg.up();
        pg
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let data = self.dir.join("data");
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let ok = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().expect("UTF-8 path"),
                "-o",
                &opts,
                "-l",
                log.to_str().expect("UTF-8 path"),
                "-w",
                "start",
            ],
        );
        assert!(ok.success(), "pg_ctl start failed: see {}", log.display());
    }

    /// `pg_ctl stop -m fast`: every connection is cut, as in a restart.
    pub fn down(&self) {
        let data = self.dir.join("data");
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().expect("UTF-8 path"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's pid (first line of `postmaster.pid`), for memory
    /// readings.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        self.down();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
