//! The `otactl serve` command line.

use std::time::Duration;

use anyhow::Context;

use super::{EmbeddedBroker, FaultConfig, FaultRule, Service, ServiceConfig};

/// Runs a local OTA service (AWS IoT Jobs, MQTT file streams and pre-signed
/// HTTP downloads) for devices on an MQTT broker.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// MQTT broker to serve devices on. Without it, an embedded broker is
    /// started on 127.0.0.1:1883.
    #[arg(long, value_name = "HOST:PORT")]
    pub broker: Option<String>,
    /// Port of the HTTP file server on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    pub http_port: u16,
    /// Port of the admin JSON endpoint on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8780, value_name = "PORT")]
    pub admin_port: u16,
    /// Lifetime of the pre-signed URLs put in job documents, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub url_lifetime: u64,
    /// The service's MQTT client id.
    #[arg(long, default_value = "otactl-service")]
    pub client_id: String,
    /// Faults to inject into what the service publishes.
    #[arg(
        long = "fault",
        value_name = "RULE",
        help = "Inject a fault into what the service publishes (repeatable): \
                ACTION[:TARGET][@PROBABILITY], ACTION = drop | duplicate | reorder | delay=MS, \
                TARGET = data (default) | jobs | all. E.g. drop:data@0.05"
    )]
    pub faults: Vec<FaultRule>,
    /// Seed of the fault probabilities.
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
}

/// `otactl serve`: starts the service (and the embedded broker if no
/// `--broker` is given), prints where everything listens, and serves until
/// the process is killed.
pub fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let (broker, host, port) = match &args.broker {
        Some(address) => {
            let (host, port) = address
                .rsplit_once(':')
                .context("--broker must be HOST:PORT")?;
            let port: u16 = port
                .parse()
                .with_context(|| format!("bad port in --broker {address}"))?;
            (None, host.to_owned(), port)
        }
        None => {
            let (broker, port) = EmbeddedBroker::start(Some(1883))?;
            println!("otactl serve: started the embedded MQTT broker on 127.0.0.1:{port}");
            (Some(broker), "127.0.0.1".to_owned(), port)
        }
    };
    let mut config = ServiceConfig::new(&host, port);
    config.client_id = args.client_id;
    config.http_port = args.http_port;
    config.admin_port = Some(args.admin_port);
    config.url_lifetime = Duration::from_secs(args.url_lifetime);
    config.faults = FaultConfig {
        seed: args.fault_seed,
        rules: args.faults,
    };
    for rule in &config.faults.rules {
        println!("otactl serve: fault {rule}");
    }
    let service = Service::start(config)?;
    println!("otactl serve: serving devices on MQTT {host}:{port}");
    println!(
        "otactl serve: files on http://127.0.0.1:{}",
        service.http_port()
    );
    if let Some(admin) = service.admin_port() {
        println!("otactl serve: admin API on http://127.0.0.1:{admin}");
    }
    loop {
        std::thread::park();
        // Keep both alive; park may wake spuriously.
        let _ = (&service, &broker);
    }
}
