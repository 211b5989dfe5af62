//! An embedded MQTT 3.1.1 broker on loopback for the demo and for tests that
//! do not need mosquitto.
//!
//! rumqttd was the first choice, but rumqttd 0.20 refuses every
//! subscription whose filter starts with `$` and closes the connection
//! (bytebeamio/rumqtt#650), so it cannot carry `$aws/...` topics. This broker
//! is deliberately small: clean sessions only, QoS 0 and 1 (QoS 2 publishes
//! are acknowledged and delivered at QoS 1), no retained messages, no wills,
//! no authentication, no redelivery. A second connection with the same
//! client id takes over the first, as MQTT requires. Topic matching follows
//! MQTT (wildcard-first filters do not match `$` topics).

mod session;
mod topic;

use std::collections::HashMap;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use anyhow::Context;
use rumqttc::mqttbytes::v4::{Packet, Publish};
use rumqttc::QoS;

use super::lock;

/// Largest packet the broker reads or writes.
const MAX_PACKET: usize = 16 * 1024 * 1024;

/// One connected client.
struct Client {
    client_id: String,
    subscriptions: Vec<(String, QoS)>,
    tx: Sender<Packet>,
    socket: TcpStream,
    next_pkid: u16,
}

/// Every connected client.
#[derive(Default)]
pub(crate) struct Registry {
    clients: Mutex<HashMap<u64, Client>>,
    next_id: AtomicU64,
}

impl Registry {
    /// Registers a connection; an older one with the same client id is closed.
    fn connect(&self, client_id: &str, tx: Sender<Packet>, socket: TcpStream) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut clients = lock(&self.clients);
        if !client_id.is_empty() {
            let old: Vec<u64> = clients
                .iter()
                .filter(|(_, c)| c.client_id == client_id)
                .map(|(id, _)| *id)
                .collect();
            for old in old {
                if let Some(c) = clients.remove(&old) {
                    let _ = c.socket.shutdown(Shutdown::Both);
                }
            }
        }
        let client = Client {
            client_id: client_id.to_owned(),
            subscriptions: Vec::new(),
            tx,
            socket,
            next_pkid: 0,
        };
        clients.insert(id, client);
        id
    }

    fn disconnect(&self, id: u64) {
        lock(&self.clients).remove(&id);
    }

    fn subscribe(&self, id: u64, filter: &str, qos: QoS) {
        if let Some(c) = lock(&self.clients).get_mut(&id) {
            c.subscriptions.retain(|(f, _)| f != filter);
            c.subscriptions.push((filter.to_owned(), qos));
        }
    }

    fn unsubscribe(&self, id: u64, filter: &str) {
        if let Some(c) = lock(&self.clients).get_mut(&id) {
            c.subscriptions.retain(|(f, _)| f != filter);
        }
    }

    /// Delivers a publish once to every client with a matching subscription,
    /// at the lower of the publish QoS and the best matching grant.
    fn route(&self, publish: &Publish) {
        let mut clients = lock(&self.clients);
        for client in clients.values_mut() {
            let granted = client
                .subscriptions
                .iter()
                .filter(|(f, _)| topic::matches(f, &publish.topic))
                .map(|(_, q)| *q)
                .reduce(|a, b| if b > a { b } else { a });
            let Some(granted) = granted else { continue };
            let qos = if publish.qos == QoS::AtMostOnce || granted == QoS::AtMostOnce {
                QoS::AtMostOnce
            } else {
                QoS::AtLeastOnce
            };
            let mut out = Publish::from_bytes(publish.topic.clone(), qos, publish.payload.clone());
            if qos != QoS::AtMostOnce {
                client.next_pkid = client.next_pkid.checked_add(1).unwrap_or(1);
                out.pkid = client.next_pkid;
            }
            let _ = client.tx.send(Packet::Publish(out));
        }
    }

    fn close_all(&self) {
        for (_, client) in lock(&self.clients).drain() {
            let _ = client.socket.shutdown(Shutdown::Both);
        }
    }
}

/// A running embedded broker; [`EmbeddedBroker::shutdown`] (or drop) stops
/// it and closes every connection.
pub struct EmbeddedBroker {
    port: u16,
    registry: Arc<Registry>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a broker on 127.0.0.1:`port`, or on a free port for `None`,
    /// and returns it with the port it listens on.
    pub fn start(port: Option<u16>) -> anyhow::Result<(EmbeddedBroker, u16)> {
        let listener = TcpListener::bind(("127.0.0.1", port.unwrap_or(0))).with_context(|| {
            format!(
                "binding the embedded MQTT broker to 127.0.0.1:{}",
                port.unwrap_or(0)
            )
        })?;
        let port = listener.local_addr()?.port();
        let registry = Arc::new(Registry::default());
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let registry = Arc::clone(&registry);
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("ota-broker-accept".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let registry = Arc::clone(&registry);
                        let spawned = thread::Builder::new()
                            .name("ota-broker-session".into())
                            .spawn(move || session::run(registry, stream));
                        if let Err(e) = spawned {
                            log::error!("broker: cannot start a session thread: {e}");
                        }
                    }
                })?
        };
        Ok((
            EmbeddedBroker {
                port,
                registry,
                stop,
                accept: Some(accept),
            },
            port,
        ))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops accepting and closes every connection.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(accept) = self.accept.take() {
            self.stop.store(true, Ordering::Relaxed);
            // Wake the accept loop.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            let _ = accept.join();
            self.registry.close_all();
        }
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.stop_now();
    }
}
