//! The service's MQTT client: connects to the broker, subscribes to the
//! device request topics on every (re)connection, and passes incoming
//! requests on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{bail, Context};
use rumqttc::{
    Client, Event, MqttOptions, NetworkOptions, Packet, QoS, SubscribeFilter, SubscribeReasonCode,
};

use super::topics::REQUEST_FILTERS;

/// Largest MQTT packet accepted or sent: a 128 KiB block plus its envelope.
const MAX_PACKET: usize = 1024 * 1024;
/// Room for a burst of blocks in the client's request queue.
const REQUEST_QUEUE: usize = 4096;

/// A message a device published.
pub(crate) type Incoming = (String, bytes::Bytes);

/// The connection; [`MqttLink::shutdown`] (or drop) disconnects.
pub(crate) struct MqttLink {
    client: Client,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MqttLink {
    /// Connects to `host:port` as `client_id` and returns once the request
    /// subscriptions are acknowledged (or fails after `timeout`). Incoming
    /// publishes go to `incoming`.
    pub fn start(
        host: &str,
        port: u16,
        client_id: &str,
        incoming: Sender<Incoming>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut options = MqttOptions::new(client_id, host, port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(true)
            .set_max_packet_size(MAX_PACKET, MAX_PACKET)
            .set_inflight(1000);
        let (client, mut connection) = Client::new(options, REQUEST_QUEUE);
        // An answer to a GetStream request is several publishes in a row:
        // with Nagle's algorithm, every one after the first waits for the
        // broker's (delayed) ACK of the one before, about 40 ms on Linux.
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        connection.eventloop.set_network_options(network);
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let thread = {
            let client = client.clone();
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("ota-service-mqtt".into())
                .spawn(move || {
                    let filters: Vec<SubscribeFilter> = REQUEST_FILTERS
                        .iter()
                        .map(|f| SubscribeFilter::new((*f).to_owned(), QoS::AtLeastOnce))
                        .collect();
                    for event in connection.iter() {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        match event {
                            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                                // Never block here: this thread drives the connection.
                                if let Err(e) = client.try_subscribe_many(filters.clone()) {
                                    log::error!("cannot subscribe to the request topics: {e}");
                                }
                            }
                            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                                let refused =
                                    ack.return_codes.contains(&SubscribeReasonCode::Failure);
                                let _ = ready_tx.send(if refused {
                                    Err("the broker refused the $aws/... subscriptions".into())
                                } else {
                                    Ok(())
                                });
                            }
                            Ok(Event::Incoming(Packet::Publish(p))) => {
                                if incoming.send((p.topic, p.payload)).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                log::warn!("MQTT connection: {e}");
                                let _ = ready_tx.send(Err(e.to_string()));
                                thread::sleep(Duration::from_millis(200));
                            }
                        }
                    }
                })
                .context("spawning the MQTT thread")?
        };
        let mut link = MqttLink {
            client,
            stop,
            thread: Some(thread),
        };
        match ready_rx.recv_timeout(timeout) {
            Ok(Ok(())) => Ok(link),
            Ok(Err(e)) => {
                link.shutdown();
                bail!("MQTT broker {host}:{port}: {e}")
            }
            Err(_) => {
                link.shutdown();
                bail!(
                    "MQTT broker {host}:{port}: no subscription acknowledgement within {timeout:?}"
                )
            }
        }
    }

    /// A handle to publish with.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Disconnects and joins the connection thread.
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MqttLink {
    fn drop(&mut self) {
        self.shutdown();
    }
}
