//! Helpers for tests that need a real MQTT broker or an MQTT client playing
//! a device: [`Mosquitto`] starts a private mosquitto on a free loopback
//! port, [`MqttProbe`] is a recording MQTT client.

mod mosquitto;
mod probe;

pub use mosquitto::{Mosquitto, TlsListener};
pub use probe::{Message, MqttProbe};
