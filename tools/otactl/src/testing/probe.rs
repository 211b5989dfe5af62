//! A recording MQTT client for tests: subscribe, publish, and wait for
//! messages.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS, SubscribeReasonCode};

/// A message the probe received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its topic.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl Message {
    /// The payload as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload).unwrap_or(serde_json::Value::Null)
    }
}

enum Note {
    Message(Message),
    SubAck(bool),
}

/// An MQTT client on 127.0.0.1 that records what it receives. Messages are
/// kept in arrival order until taken by [`MqttProbe::expect`] or
/// [`MqttProbe::drain`].
pub struct MqttProbe {
    client: Client,
    notes: Receiver<Note>,
    buffer: VecDeque<Message>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MqttProbe {
    /// Connects to 127.0.0.1:`port` as `client_id`.
    pub fn connect(port: u16, client_id: &str) -> anyhow::Result<MqttProbe> {
        let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut connection) = Client::new(options, 1024);
        let (tx, notes) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name(format!("probe-{client_id}"))
                .spawn(move || {
                    for event in connection.iter() {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let note = match event {
                            Ok(Event::Incoming(Packet::Publish(p))) => Note::Message(Message {
                                topic: p.topic,
                                payload: p.payload.to_vec(),
                            }),
                            Ok(Event::Incoming(Packet::SubAck(a))) => Note::SubAck(
                                !a.return_codes.contains(&SubscribeReasonCode::Failure),
                            ),
                            Ok(_) => continue,
                            Err(_) => {
                                thread::sleep(Duration::from_millis(100));
                                continue;
                            }
                        };
                        if tx.send(note).is_err() {
                            break;
                        }
                    }
                })?
        };
        Ok(MqttProbe {
            client,
            notes,
            buffer: VecDeque::new(),
            stop,
            thread: Some(thread),
        })
    }

    /// Subscribes at QoS 1 and waits for the acknowledgement.
    pub fn subscribe(&mut self, filter: &str) -> anyhow::Result<()> {
        self.client.subscribe(filter, QoS::AtLeastOnce)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .notes
                .recv_timeout(left)
                .with_context(|| format!("no SUBACK for {filter}"))?
            {
                Note::SubAck(true) => return Ok(()),
                Note::SubAck(false) => bail!("the broker refused the subscription to {filter}"),
                Note::Message(m) => self.buffer.push_back(m),
            }
        }
    }

    /// Publishes a message.
    pub fn publish(
        &self,
        topic: &str,
        payload: impl Into<Vec<u8>>,
        qos: QoS,
    ) -> anyhow::Result<()> {
        self.client.publish(topic, qos, false, payload)?;
        Ok(())
    }

    /// Takes the first message (buffered or arriving within `timeout`) whose
    /// topic is `topic`; other messages stay buffered.
    pub fn expect(&mut self, topic: &str, timeout: Duration) -> anyhow::Result<Message> {
        self.expect_where(timeout, |m| m.topic == topic)
            .with_context(|| format!("waiting for a message on {topic}"))
    }

    /// Takes the first message satisfying `wanted` within `timeout`.
    pub fn expect_where(
        &mut self,
        timeout: Duration,
        wanted: impl Fn(&Message) -> bool,
    ) -> anyhow::Result<Message> {
        if let Some(i) = self.buffer.iter().position(&wanted) {
            return Ok(self.buffer.remove(i).expect("index in range"));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.notes.recv_timeout(left) {
                Ok(Note::Message(m)) if wanted(&m) => return Ok(m),
                Ok(Note::Message(m)) => self.buffer.push_back(m),
                Ok(Note::SubAck(_)) => {}
                Err(_) => bail!(
                    "nothing arrived within {timeout:?}; other messages: {:?}",
                    self.topics()
                ),
            }
        }
    }

    /// Everything received within `quiet` of the previous message (or now),
    /// in arrival order, including what was buffered.
    pub fn drain(&mut self, quiet: Duration) -> Vec<Message> {
        while let Ok(note) = self.notes.recv_timeout(quiet) {
            if let Note::Message(m) = note {
                self.buffer.push_back(m);
            }
        }
        self.buffer.drain(..).collect()
    }

    fn topics(&self) -> Vec<&str> {
        self.buffer.iter().map(|m| m.topic.as_str()).collect()
    }
}

impl Drop for MqttProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
