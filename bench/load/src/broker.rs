//! The broker both commands run against: `otactl::testing::Mosquitto`,
//! described in the report the same way by each.

use otactl::testing::Mosquitto;

/// Start mosquitto, with Nagle's algorithm when `nagle` (mosquitto's
/// default; otherwise `set_tcp_nodelay true`), and print the report line
/// that says which broker it is and how it is configured.
pub fn start(nagle: bool) -> anyhow::Result<Mosquitto> {
    let broker = if nagle {
        Mosquitto::start_with_nagle()?
    } else {
        Mosquitto::start()?
    };
    println!(
        "- broker: {} on 127.0.0.1:{}, pid {}; configuration: {}",
        broker.version(),
        broker.port(),
        broker.pid(),
        broker.config()
    );
    Ok(broker)
}
