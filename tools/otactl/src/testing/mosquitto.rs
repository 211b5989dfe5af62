//! A private mosquitto broker for tests.

use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
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
    tls_port: Option<u16>,
    dir: PathBuf,
    program: PathBuf,
}

/// A second, TLS listener that requires client certificates (as AWS IoT
/// does): PEM files for the CA that signs clients, and the server's
/// certificate and key.
#[derive(Clone, Debug)]
pub struct TlsListener {
    /// The CA certificate that client certificates must chain to.
    pub ca_file: PathBuf,
    /// The broker's certificate.
    pub cert_file: PathBuf,
    /// The broker's private key.
    pub key_file: PathBuf,
}

impl Mosquitto {
    /// Starts mosquitto (from `$MOSQUITTO`, `PATH` or `/usr/sbin`) and
    /// waits until it accepts connections. Fails with installation advice
    /// when mosquitto is missing.
    pub fn start() -> anyhow::Result<Mosquitto> {
        Self::start_with(None, false)
    }

    /// Like [`Mosquitto::start`], but with mosquitto's default
    /// `set_tcp_nodelay false`: Nagle's algorithm holds the later messages
    /// of a burst until the peer's delayed ACK (about 40 ms on Linux). For
    /// measuring what that costs; tests and benchmarks use
    /// [`Mosquitto::start`].
    pub fn start_with_nagle() -> anyhow::Result<Mosquitto> {
        Self::start_with(None, true)
    }

    /// Like [`Mosquitto::start`], with a second listener on another free
    /// port that speaks TLS and requires a client certificate
    /// ([`Mosquitto::tls_port`]).
    pub fn start_with_tls(tls: &TlsListener) -> anyhow::Result<Mosquitto> {
        Self::start_with(Some(tls), false)
    }

    fn start_with(tls: Option<&TlsListener>, nagle: bool) -> anyhow::Result<Mosquitto> {
        let program = find_mosquitto().context(INSTALL_HINT)?;
        let mut last_error = None;
        // A free port can be taken by someone else before mosquitto binds it.
        for _ in 0..5 {
            match Self::start_once(&program, tls, nagle) {
                Ok(broker) => return Ok(broker),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    fn start_once(
        program: &Path,
        tls: Option<&TlsListener>,
        nagle: bool,
    ) -> anyhow::Result<Mosquitto> {
        let port = free_port()?;
        let dir = temp_dir()?;
        let mut config = format!(
            "allow_anonymous true\npersistence false\n\
             max_queued_messages 100000\nmax_inflight_messages 0\nlog_dest stderr\n\
             set_tcp_nodelay {}\n\
             listener {port} 127.0.0.1\n",
            !nagle
        );
        let tls_port = match tls {
            Some(tls) => {
                let tls_port = free_port()?;
                // mosquitto started as root reads its files as the user
                // `mosquitto`: give it world-readable copies in its own
                // directory (test keys only).
                let copy = |from: &Path, name: &str| -> anyhow::Result<PathBuf> {
                    let to = dir.join(name);
                    fs::copy(from, &to).with_context(|| format!("copying {}", from.display()))?;
                    fs::set_permissions(&to, fs::Permissions::from_mode(0o644))?;
                    Ok(to)
                };
                config.push_str(&format!(
                    "listener {tls_port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
                     require_certificate true\n",
                    copy(&tls.ca_file, "ca.pem")?.display(),
                    copy(&tls.cert_file, "server.pem")?.display(),
                    copy(&tls.key_file, "server.key")?.display()
                ));
                Some(tls_port)
            }
            None => None,
        };
        fs::write(dir.join("mosquitto.conf"), config)?;
        let child = spawn(program, &dir)?;
        let mut broker = Mosquitto {
            child,
            port,
            tls_port,
            dir,
            program: program.to_owned(),
        };
        broker.wait_listening()?;
        Ok(broker)
    }

    fn wait_listening(&mut self) -> anyhow::Result<()> {
        let port = self.port;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "mosquitto exited with {status} before listening on {port}: {}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "mosquitto did not listen on {port} within 10 s: {}",
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the broker (as a crash would: no goodbye to the clients). It
    /// stays down until [`Mosquitto::restart`].
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the broker again on the same port (killing it first if it
    /// runs), with no memory of its clients, and waits until it listens.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.child = spawn(&self.program, &self.dir)?;
            match self.wait_listening() {
                Ok(()) => return Ok(()),
                // The port may not be free again yet.
                Err(e) if Instant::now() < deadline => {
                    log::debug!("mosquitto restart: {e:#}; retrying");
                    thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS listener's port, if it has one.
    pub fn tls_port(&self) -> Option<u16> {
        self.tls_port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its configuration file, one setting per `; `-separated item.
    pub fn config(&self) -> String {
        fs::read_to_string(self.dir.join("mosquitto.conf"))
            .unwrap_or_default()
            .trim_end()
            .replace('\n', "; ")
    }

    /// `mosquitto 2.0.11`, from its log.
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

/// Runs mosquitto with the configuration in `dir`, appending to its log.
fn spawn(program: &Path, dir: &Path) -> anyhow::Result<Child> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("mosquitto.log"))?;
    Command::new(program)
        .arg("-c")
        .arg(dir.join("mosquitto.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("running {}", program.display()))
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
