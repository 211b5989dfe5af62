//! A private mosquitto on a free loopback port, configured for
//! request/response latency (`set_tcp_nodelay true`) unless asked not to.
//!
//! `otactl::testing::Mosquitto` has no configuration hook, and mosquitto's
//! default (`set_tcp_nodelay false`) lets Nagle's algorithm hold the second
//! and later messages of every multi-block answer until the device's
//! delayed ACK, about 40 ms on Linux: that would be the only thing measured.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// What to tell someone whose machine has no mosquitto.
const INSTALL_HINT: &str = "mosquitto (the MQTT broker) was not found on PATH, in /usr/sbin or in \
     $MOSQUITTO; install it: apt-get install -y mosquitto";

/// A running mosquitto; dropping it kills it and removes its directory.
pub struct Broker {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    config: String,
}

impl Broker {
    /// Starts mosquitto on 127.0.0.1 on a free port and waits until it
    /// accepts connections. `nagle` keeps mosquitto's default
    /// `set_tcp_nodelay false`.
    pub fn start(nagle: bool) -> anyhow::Result<Broker> {
        let program = find().context(INSTALL_HINT)?;
        let mut last_error = None;
        // A free port can be taken by someone else before mosquitto binds it.
        for _ in 0..5 {
            match Self::start_once(&program, nagle) {
                Ok(broker) => return Ok(broker),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("mosquitto did not start")))
    }

    fn start_once(program: &PathBuf, nagle: bool) -> anyhow::Result<Broker> {
        let port = TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port();
        let dir = tempfile::Builder::new()
            .prefix("ota-bench-mosquitto-")
            .tempdir()?;
        let config = format!(
            "allow_anonymous true\npersistence false\nmax_queued_messages 100000\n\
             max_inflight_messages 0\nset_tcp_nodelay {}\nlog_dest stderr\n\
             listener {port} 127.0.0.1\n",
            !nagle
        );
        let path = dir.path().join("mosquitto.conf");
        fs::write(&path, &config)?;
        let log = fs::File::create(dir.path().join("mosquitto.log"))?;
        let child = Command::new(program)
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("running {}", program.display()))?;
        let mut broker = Broker {
            child,
            port,
            dir,
            config,
        };
        broker.wait_listening()?;
        Ok(broker)
    }

    fn wait_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("mosquitto exited with {status}: {}", self.log());
            }
            if Instant::now() > deadline {
                bail!(
                    "mosquitto did not listen on {} within 10 s: {}",
                    self.port,
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its configuration file, one line per setting, `; `-separated.
    pub fn config(&self) -> String {
        self.config.trim_end().replace('\n', "; ")
    }

    /// What it logged.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// `mosquitto version 2.0.11`, from its log.
    pub fn version(&self) -> String {
        self.log()
            .lines()
            .find_map(|l| {
                l.split_once("mosquitto version ")
                    .map(|(_, v)| v.split_whitespace().next().unwrap_or(v).to_owned())
            })
            .map_or_else(
                || "mosquitto (version unknown)".to_owned(),
                |v| format!("mosquitto {v}"),
            )
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// mosquitto from `$MOSQUITTO`, `PATH` or the usual sbin directories.
fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MOSQUITTO").map(PathBuf::from) {
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            "/usr/sbin".into(),
            "/usr/local/sbin".into(),
            "/opt/homebrew/sbin".into(),
        ])
        .map(|dir| dir.join("mosquitto"))
        .find(|p| p.is_file())
}
