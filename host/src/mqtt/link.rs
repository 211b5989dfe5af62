//! The connection thread: connects, reports what happens on the connection,
//! and reconnects with backoff after a failure.
//!
//! Every connection gets a fresh rumqttc client with its own request queue,
//! handed to the user with [`LinkEvent::Connected`] once the broker accepted
//! it. Whatever was queued on a broken connection dies with it, which keeps
//! the packet-id bookkeeping of the next one exact (see `delivery.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rumqttc::{
    Client, ConnectionError, Event, Incoming, MqttOptions, NetworkOptions, Outgoing,
    TlsConfiguration, Transport,
};

use super::backoff::Jitter;
use super::{MqttConfig, MqttError};

/// Requests the agent may queue between two turns of the event loop.
const REQUEST_QUEUE: usize = 256;

/// Something that happened on the link, in order.
#[derive(Debug)]
pub enum LinkEvent {
    /// The broker accepted a connection: publish through this session.
    Connected(Session),
    /// The connection was lost; the link reconnects.
    Disconnected(String),
    /// A connection attempt failed; the link tries again after a backoff.
    Unreachable(String),
    /// A message arrived.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// rumqttc gave a queued QoS 1 publish this packet id.
    Sent(u16),
    /// A queued QoS 1 publish got this packet id but waits until it is free.
    Collided(u16),
    /// The broker acknowledged the QoS 1 publish with this packet id.
    PubAck(u16),
}

/// A live connection to publish and subscribe through.
#[derive(Clone)]
pub struct Session {
    pub(crate) client: Client,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session")
    }
}

/// Stop signal shared with the thread; also wakes it from a backoff sleep.
#[derive(Default)]
struct Stop {
    stopped: AtomicBool,
    /// The client of the connection being made or in use, to disconnect it.
    client: Mutex<Option<Client>>,
    sleeping: Mutex<()>,
    wake: Condvar,
}

impl Stop {
    fn is_set(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Sleep for `d` unless stopped first; false when stopped.
    fn sleep(&self, d: Duration) -> bool {
        let guard = self.sleeping.lock().unwrap_or_else(PoisonError::into_inner);
        let (_guard, _) = self
            .wake
            .wait_timeout_while(guard, d, |_| !self.is_set())
            .unwrap_or_else(PoisonError::into_inner);
        !self.is_set()
    }

    /// Publish the current client, unless the link is stopping.
    fn set_client(&self, client: &Client) -> bool {
        let mut current = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_set() {
            return false;
        }
        *current = Some(client.clone());
        true
    }
}

/// The MQTT connection of one device: a thread that keeps it up. Dropping
/// it (or [`MqttLink::shutdown`]) disconnects and joins the thread.
pub struct MqttLink {
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

impl MqttLink {
    /// Start connecting to the broker in `config`. Every [`LinkEvent`] goes
    /// to `sink`, in order, from the link's thread; when `sink` returns
    /// false the link stops. Fails only on unusable TLS files.
    pub fn start(
        config: &MqttConfig,
        sink: impl FnMut(LinkEvent) -> bool + Send + 'static,
    ) -> Result<Self, MqttError> {
        let options = options(config)?;
        let stop = Arc::new(Stop::default());
        let seed = jitter_seed(&config.client_id);
        let thread = {
            let stop = Arc::clone(&stop);
            let backoff = config.reconnect;
            thread::Builder::new()
                .name(format!("mqtt-{}", config.client_id))
                .spawn(move || run(options, backoff, Jitter::new(seed), &stop, sink))
                .map_err(MqttError::Thread)?
        };
        Ok(MqttLink {
            stop,
            thread: Some(thread),
        })
    }

    /// Disconnect and wait for the thread to end.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        {
            let mut client = self
                .stop
                .client
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            self.stop.stopped.store(true, Ordering::Release);
            if let Some(client) = client.take() {
                let _ = client.try_disconnect();
            }
        }
        self.stop.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MqttLink {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

fn options(config: &MqttConfig) -> Result<MqttOptions, MqttError> {
    let mut options = MqttOptions::new(&config.client_id, &config.host, config.port);
    options
        .set_keep_alive(config.keep_alive)
        .set_clean_session(true)
        .set_max_packet_size(config.max_packet_size, config.max_packet_size);
    if let Some(tls) = &config.tls {
        let client_config = tls.client_config().map_err(MqttError::Tls)?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            client_config,
        )));
    }
    Ok(options)
}

fn jitter_seed(client_id: &str) -> u64 {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    client_id
        .bytes()
        .fold(time, |h, b| h.rotate_left(7) ^ u64::from(b))
}

/// How one connection ended.
enum End {
    /// The link is stopping.
    Stopped,
    /// The connection broke (`true` if the broker had accepted it).
    Failed(bool),
}

fn run(
    options: MqttOptions,
    backoff: super::Backoff,
    mut jitter: Jitter,
    stop: &Stop,
    mut sink: impl FnMut(LinkEvent) -> bool,
) {
    let mut attempt = 0u32;
    while !stop.is_set() {
        match connection(&options, stop, &mut sink) {
            End::Stopped => break,
            End::Failed(was_connected) => {
                if was_connected {
                    attempt = 0;
                }
                let delay = backoff.delay(attempt, &mut jitter);
                attempt = attempt.saturating_add(1);
                log::debug!("mqtt: reconnecting in {delay:?}");
                if !stop.sleep(delay) {
                    break;
                }
            }
        }
    }
}

/// One connection, from the attempt to its end.
fn connection(options: &MqttOptions, stop: &Stop, sink: &mut impl FnMut(LinkEvent) -> bool) -> End {
    let (client, mut connection) = Client::new(options.clone(), REQUEST_QUEUE);
    // The agent often publishes twice in a row (a progress status, then the
    // next GetStream request): with Nagle's algorithm the second waits for
    // the broker's delayed ACK of the first, about 40 ms on Linux.
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    connection.eventloop.set_network_options(network);
    if !stop.set_client(&client) {
        return End::Stopped;
    }
    let mut connected = false;
    let mut client = Some(client);
    for event in connection.iter() {
        if stop.is_set() {
            return End::Stopped;
        }
        let event = match event {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                connected = true;
                match client.take() {
                    Some(client) => LinkEvent::Connected(Session { client }),
                    None => continue,
                }
            }
            Ok(Event::Incoming(Incoming::Publish(p))) => LinkEvent::Message {
                topic: p.topic,
                payload: p.payload.to_vec(),
            },
            Ok(Event::Incoming(Incoming::PubAck(ack))) => LinkEvent::PubAck(ack.pkid),
            Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                if ack
                    .return_codes
                    .contains(&rumqttc::SubscribeReasonCode::Failure)
                {
                    log::warn!("mqtt: the broker refused a subscription");
                }
                continue;
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) if pkid != 0 => LinkEvent::Sent(pkid),
            Ok(Event::Outgoing(Outgoing::AwaitAck(pkid))) => LinkEvent::Collided(pkid),
            Ok(_) => continue,
            Err(e) => {
                let reason = describe(&e);
                let event = if connected {
                    log::info!("mqtt: connection lost: {reason}");
                    LinkEvent::Disconnected(reason)
                } else {
                    log::debug!("mqtt: cannot connect: {reason}");
                    LinkEvent::Unreachable(reason)
                };
                if stop.is_set() || !sink(event) {
                    return End::Stopped;
                }
                return End::Failed(connected);
            }
        };
        if !sink(event) {
            return End::Stopped;
        }
    }
    End::Failed(connected)
}

fn describe(e: &ConnectionError) -> String {
    match e {
        ConnectionError::Io(io) => format!("I/O: {io}"),
        other => other.to_string(),
    }
}
