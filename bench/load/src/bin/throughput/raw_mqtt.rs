//! The MQTT floor: the same bytes through the same broker between two plain
//! rumqttc clients, with no agent, no service and no flash.
//!
//! The responder plays the service: it subscribes to `bench/raw/+/get`; a
//! request is 8 bytes, the first block (u32 LE) and the number of blocks
//! (u32 LE); it publishes each block, QoS 0, as one message of the block's
//! bytes on `bench/raw/{id}/data`. The requester plays the device: either
//! paced like the agent (a request for `n` blocks, wait for all `n`, the
//! next request) or as a pure stream (one request for the whole file).

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rumqttc::{Client, Connection, Event, MqttOptions, NetworkOptions, Packet, QoS};

/// Largest packet either client sends or accepts.
const MAX_PACKET: usize = 256 * 1024;
/// How long the requester waits for the blocks of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The requester's id in the topics.
const REQUESTER: &str = "requester";

/// A client whose socket has `TCP_NODELAY`, as the service's and the
/// devices' have.
fn client(client_id: &str, port: u16, queue: usize) -> (Client, Connection) {
    let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    let (client, mut connection) = Client::new(options, queue);
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    connection.eventloop.set_network_options(network);
    (client, connection)
}

/// Subscribes and waits for the broker's SUBACK.
fn subscribe(client: &Client, connection: &mut Connection, filter: &str) -> anyhow::Result<()> {
    client.subscribe(filter, QoS::AtMostOnce)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match connection.recv_timeout(left) {
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => bail!("subscribing to {filter}: {e}"),
            Err(_) => bail!("no SUBACK for {filter} within 10 s"),
        }
    }
}

/// The responder: two threads, one driving the connection, one publishing.
pub struct Responder {
    client: Client,
    threads: Vec<JoinHandle<()>>,
}

impl Responder {
    /// Connects and serves `file` in blocks of `block_size` bytes.
    pub fn start(port: u16, file: Arc<[u8]>, block_size: usize) -> anyhow::Result<Responder> {
        let (client, mut connection) = client("bench-raw-responder", port, 256);
        subscribe(&client, &mut connection, "bench/raw/+/get")?;
        let (tx, requests) = mpsc::channel::<(String, u32, u32)>();
        let reader = thread::Builder::new()
            .name("raw-responder-mqtt".into())
            .spawn(move || {
                for event in connection.iter() {
                    match event {
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            if let Some(request) = parse_request(&p.topic, &p.payload) {
                                if tx.send(request).is_err() {
                                    break;
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            })?;
        let publisher = {
            let client = client.clone();
            thread::Builder::new()
                .name("raw-responder".into())
                .spawn(move || {
                    for (id, first, count) in requests {
                        let topic = format!("bench/raw/{id}/data");
                        let blocks = file
                            .chunks(block_size)
                            .skip(first as usize)
                            .take(count as usize);
                        for block in blocks {
                            if client
                                .publish(topic.as_str(), QoS::AtMostOnce, false, block.to_vec())
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                })?
        };
        Ok(Responder {
            client,
            threads: vec![reader, publisher],
        })
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// `bench/raw/{id}/get` with 8 bytes → (id, first block, count).
fn parse_request(topic: &str, payload: &[u8]) -> Option<(String, u32, u32)> {
    let id = topic.strip_prefix("bench/raw/")?.strip_suffix("/get")?;
    let first = u32::from_le_bytes(payload.get(0..4)?.try_into().ok()?);
    let count = u32::from_le_bytes(payload.get(4..8)?.try_into().ok()?);
    (payload.len() == 8 && !id.contains('/')).then(|| (id.to_owned(), first, count))
}

/// The requester, driving its connection on the caller's thread.
pub struct Requester {
    client: Client,
    connection: Connection,
}

impl Requester {
    /// Connects and subscribes to its data topic.
    pub fn connect(port: u16) -> anyhow::Result<Requester> {
        let (client, mut connection) = client("bench-raw-requester", port, 64);
        subscribe(
            &client,
            &mut connection,
            &format!("bench/raw/{REQUESTER}/data"),
        )?;
        Ok(Requester { client, connection })
    }

    /// Fetches a file of `file_len` bytes, `per_request` blocks of
    /// `block_size` per request, one request at a time; the time taken.
    pub fn paced(
        &mut self,
        file_len: usize,
        block_size: usize,
        per_request: u32,
    ) -> anyhow::Result<Duration> {
        let blocks = file_len.div_ceil(block_size) as u32;
        let started = Instant::now();
        let mut bytes = 0;
        for first in (0..blocks).step_by(per_request as usize) {
            let count = per_request.min(blocks - first);
            bytes += self.fetch(first, count)?;
        }
        let elapsed = started.elapsed();
        if bytes != file_len {
            bail!("received {bytes} bytes of {file_len}");
        }
        Ok(elapsed)
    }

    /// Fetches the whole file with one request; the time taken.
    pub fn stream(&mut self, file_len: usize, block_size: usize) -> anyhow::Result<Duration> {
        self.paced(file_len, block_size, file_len.div_ceil(block_size) as u32)
    }

    /// Asks for `count` blocks from `first` and waits for them; their bytes.
    fn fetch(&mut self, first: u32, count: u32) -> anyhow::Result<usize> {
        let mut request = first.to_le_bytes().to_vec();
        request.extend_from_slice(&count.to_le_bytes());
        self.client
            .publish(
                format!("bench/raw/{REQUESTER}/get"),
                QoS::AtMostOnce,
                false,
                request,
            )
            .context("publishing a request")?;
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let (mut got, mut bytes) = (0, 0);
        while got < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.connection.recv_timeout(left) {
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                    got += 1;
                    bytes += p.payload.len();
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => bail!("the requester's connection: {e}"),
                Err(_) => {
                    bail!("{got} of {count} blocks from block {first} within {REQUEST_TIMEOUT:?}")
                }
            }
        }
        Ok(bytes)
    }
}

impl Drop for Requester {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
    }
}
