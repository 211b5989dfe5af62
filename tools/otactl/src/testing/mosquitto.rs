//! A private mosquitto broker for tests.

use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// What to tell someone whose machine has no mosquitto.
const INSTALL_HINT: &str = "mosquitto (the MQTT broker) is needed by this test but was not found \
     on PATH, in /usr/sbin or in $MOSQUITTO; install it: `apt-get install -y mosquitto` \
     (Debian/Ubuntu) or `brew install mosquitto` (macOS)";

/// A mosquitto process listening on 127.0.0.1 on a free port, with its
/// configuration in a temporary directory. Dropping it kills the broker and
/// removes the directory.
pub struct Mosquitto {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Mosquitto {
    /// Starts mosquitto (from `$MOSQUITTO`, `PATH` or `/usr/sbin`) and
    /// waits until it accepts connections. Fails with installation advice
    /// when mosquitto is missing.
    pub fn start() -> anyhow::Result<Mosquitto> {
        let program = find_mosquitto().context(INSTALL_HINT)?;
        let mut last_error = None;
        // A free port can be taken by someone else before mosquitto binds it.
        for _ in 0..5 {
            match Self::start_once(&program) {
                Ok(broker) => return Ok(broker),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    fn start_once(program: &Path) -> anyhow::Result<Mosquitto> {
        let port = free_port()?;
        let dir = temp_dir()?;
        let config = dir.join("mosquitto.conf");
        fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 100000\nmax_inflight_messages 0\nlog_dest stderr\n"
            ),
        )?;
        let log = fs::File::create(dir.join("mosquitto.log"))?;
        let child = Command::new(program)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("running {}", program.display()))?;
        let mut broker = Mosquitto { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(broker);
            }
            if let Some(status) = broker.child.try_wait()? {
                bail!(
                    "mosquitto exited with {status} before listening on {port}: {}",
                    broker.log()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "mosquitto did not listen on {port} within 10 s: {}",
                    broker.log()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What mosquitto logged so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = fs::File::open(self.dir.join("mosquitto.log")) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn find_mosquitto() -> Option<PathBuf> {
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

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn temp_dir() -> anyhow::Result<PathBuf> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "otactl-mosquitto-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
