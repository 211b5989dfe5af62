//! The MQTT side of a host device, on rumqttc (plain TCP, or TLS with a
//! client certificate as AWS IoT Core needs).
//!
//! - [`MqttLink`] keeps a connection up on its own thread, reconnecting with
//!   exponential [`Backoff`] and jitter, and reports every [`LinkEvent`] in
//!   order to a sink (typically the device's channel);
//! - [`MqttDriver`] applies those events to an [`ota_agent::Agent`] on the
//!   device's thread and performs the agent's transmits: messages go to
//!   `handle_message`, a connection starts or resumes the agent, a
//!   disconnect suspends it, and the PUBACK of a publish that carried a
//!   [`DeliveryToken`](ota_agent::DeliveryToken) goes to `handle_delivered`.
//!
//! Sessions are clean: after a reconnect the agent subscribes again and
//! re-sends what it was waiting for (that is what `resume` is for).

mod backoff;
mod delivery;
mod driver;
mod link;
mod tls;

use std::fmt;
use std::time::Duration;

pub use backoff::Backoff;
pub use driver::{Connectivity, MqttDriver};
pub use link::{LinkEvent, MqttLink, Session};
pub use tls::{TlsConfig, TlsError, AWS_IOT_ALPN};

/// Largest MQTT packet sent or accepted: a 128 KiB block and its envelope.
pub const DEFAULT_MAX_PACKET: usize = 256 * 1024;

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttConfig {
    /// Broker host name or address.
    pub host: String,
    /// Broker port (1883 plain, 8883 TLS, 443 TLS with ALPN on AWS IoT).
    pub port: u16,
    /// The MQTT client id (AWS IoT policies usually want the thing name).
    pub client_id: String,
    /// TLS, or `None` for plain TCP.
    pub tls: Option<TlsConfig>,
    /// MQTT keep-alive interval.
    pub keep_alive: Duration,
    /// Reconnect pacing.
    pub reconnect: Backoff,
    /// Largest packet in either direction.
    pub max_packet_size: usize,
}

impl MqttConfig {
    /// Plain TCP to `host:port` as `client_id`, 30 s keep-alive, default backoff.
    pub fn new(host: &str, port: u16, client_id: &str) -> Self {
        MqttConfig {
            host: host.to_owned(),
            port,
            client_id: client_id.to_owned(),
            tls: None,
            keep_alive: Duration::from_secs(30),
            reconnect: Backoff::default(),
            max_packet_size: DEFAULT_MAX_PACKET,
        }
    }
}

/// Why a link could not start.
#[derive(Debug)]
pub enum MqttError {
    /// The TLS files are unusable.
    Tls(TlsError),
    /// The connection thread could not be spawned.
    Thread(std::io::Error),
}

impl fmt::Display for MqttError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MqttError::Tls(e) => write!(f, "TLS: {e}"),
            MqttError::Thread(e) => write!(f, "cannot start the MQTT thread: {e}"),
        }
    }
}

impl std::error::Error for MqttError {}
