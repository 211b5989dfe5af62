//! Counters of what the service served, for tests and the admin endpoint.

use std::collections::BTreeMap;

use serde::Serialize;

use super::message::{MessageKind, Outgoing};

/// Per block index: how many times it was served.
pub type BlockCounts = BTreeMap<u32, u64>;

/// A snapshot of the service's counters. Blocks are counted when the service
/// decides to send them, before fault injection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// GetStream requests received.
    pub stream_requests: u64,
    /// GetStream errors sent, by code.
    pub stream_rejections: BTreeMap<String, u64>,
    /// Data blocks served, per stream.
    pub blocks_by_stream: BTreeMap<String, u64>,
    /// Data blocks served, per thing.
    pub blocks_by_thing: BTreeMap<String, u64>,
    /// Block bytes served over MQTT.
    pub block_bytes: u64,
    /// thing → stream → file id → block index → times served.
    pub blocks: BTreeMap<String, BTreeMap<String, BTreeMap<u8, BlockCounts>>>,
    /// Jobs requests received (get and update).
    pub job_requests: u64,
    /// notify-next messages sent.
    pub notify_next_sent: u64,
    /// HTTP file requests received.
    pub http_requests: u64,
    /// HTTP requests refused with 403 (expired or bad signature).
    pub http_forbidden: u64,
    /// HTTP body bytes served.
    pub http_bytes: u64,
    /// HTTP body bytes served, per `stream/file`.
    pub http_bytes_by_file: BTreeMap<String, u64>,
    /// Messages dropped by fault injection.
    pub faults_dropped: u64,
    /// Messages duplicated by fault injection.
    pub faults_duplicated: u64,
    /// Messages delayed by fault injection.
    pub faults_delayed: u64,
    /// Messages reordered by fault injection.
    pub faults_reordered: u64,
}

impl Stats {
    /// How many times block `block` of `file` in `stream` was served to `thing`.
    pub fn times_served(&self, thing: &str, stream: &str, file: u8, block: u32) -> u64 {
        self.block_counts(thing, stream, file)
            .and_then(|c| c.get(&block).copied())
            .unwrap_or(0)
    }

    /// The per-block counts of one file served to one thing.
    pub fn block_counts(&self, thing: &str, stream: &str, file: u8) -> Option<&BlockCounts> {
        self.blocks.get(thing)?.get(stream)?.get(&file)
    }

    /// Counts a message the service is about to publish.
    pub(crate) fn record(&mut self, message: &Outgoing) {
        match &message.kind {
            MessageKind::StreamData {
                stream,
                file,
                block,
                len,
            } => {
                *self.blocks_by_stream.entry(stream.clone()).or_default() += 1;
                *self
                    .blocks_by_thing
                    .entry(message.thing.clone())
                    .or_default() += 1;
                self.block_bytes += *len as u64;
                let counts = self
                    .blocks
                    .entry(message.thing.clone())
                    .or_default()
                    .entry(stream.clone())
                    .or_default();
                *counts.entry(*file).or_default().entry(*block).or_default() += 1;
            }
            MessageKind::StreamRejected { code, .. } => {
                *self
                    .stream_rejections
                    .entry((*code).to_owned())
                    .or_default() += 1;
            }
            MessageKind::NotifyNext => self.notify_next_sent += 1,
            MessageKind::JobReply => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::QoS;

    #[test]
    fn blocks_are_counted_per_thing_stream_file_and_index() {
        let mut stats = Stats::default();
        let block = |thing: &str, block| Outgoing {
            topic: String::new(),
            payload: vec![],
            qos: QoS::AtMostOnce,
            thing: thing.into(),
            kind: MessageKind::StreamData {
                stream: "S".into(),
                file: 1,
                block,
                len: 10,
            },
        };
        stats.record(&block("a", 0));
        stats.record(&block("a", 0));
        stats.record(&block("b", 3));
        assert_eq!(stats.times_served("a", "S", 1, 0), 2);
        assert_eq!(stats.times_served("a", "S", 1, 3), 0);
        assert_eq!(stats.times_served("b", "S", 1, 3), 1);
        assert_eq!(stats.blocks_by_stream["S"], 3);
        assert_eq!(stats.blocks_by_thing["a"], 2);
        assert_eq!(stats.block_bytes, 30);
    }
}
