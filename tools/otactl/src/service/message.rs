//! Messages the service publishes, with what tests and fault rules need to
//! know about them.

use rumqttc::QoS;

/// What an outgoing message is, for statistics and fault injection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// A reply on `jobs/.../get/...` or `jobs/.../update/...`.
    JobReply,
    /// A NextJobExecutionChanged message on `jobs/notify-next`.
    NotifyNext,
    /// One block on `streams/{stream}/data/cbor`.
    StreamData {
        stream: String,
        file: u8,
        block: u32,
        len: usize,
    },
    /// A GetStream error on `streams/{stream}/rejected/cbor`.
    StreamRejected { stream: String, code: &'static str },
}

/// One MQTT message the service publishes.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    /// The thing the message is for.
    pub thing: String,
    pub kind: MessageKind,
}
