//! What the agent asks the port to send.

/// The most bytes a [`Transmit`] carries: for every subscribe, unsubscribe
/// and publish, `topic.len() + payload.len()` is at most this (the longest
/// topic, 225 bytes with a 128-byte thing name and a 72-byte job id, plus the
/// longest payload), so a port can size its MQTT buffers by it (adding the
/// MQTT framing: fixed header, topic length and packet id). An
/// [`HttpGet`](Transmit::HttpGet)'s URL is bounded by the agent's `URL_CAP`
/// instead.
///
/// [`Agent::poll_transmit`](crate::Agent::poll_transmit) renders into a buffer
/// of this size on its own stack: the port lends the agent none.
pub const MAX_TRANSMIT_LEN: usize = 384;

/// MQTT quality of service (AWS IoT supports 0 and 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QoS {
    /// At most once.
    AtMostOnce,
    /// At least once: the port reports the PUBACK when the publish carries a
    /// [`DeliveryToken`].
    AtLeastOnce,
}

/// Identifies a QoS 1 publish whose delivery the agent waits for. The port
/// passes it back to [`Agent::handle_delivered`](crate::Agent::handle_delivered)
/// when the broker acknowledges the publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryToken(pub u16);

/// One thing for the port to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit<'a> {
    /// Subscribe to a topic filter.
    Subscribe {
        /// The topic filter.
        topic: &'a str,
        /// The maximum QoS.
        qos: QoS,
    },
    /// Unsubscribe from a topic filter.
    Unsubscribe {
        /// The topic filter.
        topic: &'a str,
    },
    /// Publish a message.
    Publish {
        /// The topic.
        topic: &'a str,
        /// The payload.
        payload: &'a [u8],
        /// The QoS.
        qos: QoS,
        /// Present when the agent waits for this publish to be acknowledged.
        delivery: Option<DeliveryToken>,
    },
    /// Perform `GET url` with `Range: bytes=first-last` and feed the body to
    /// [`Agent::handle_http_data`](crate::Agent::handle_http_data), then the
    /// outcome to [`Agent::handle_http_done`](crate::Agent::handle_http_done).
    HttpGet {
        /// The pre-signed URL from the job document.
        url: &'a str,
        /// First byte offset (inclusive).
        first: u32,
        /// Last byte offset (inclusive).
        last: u32,
    },
}
