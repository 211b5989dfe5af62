//! What the agent thread's channel carries.

use alloc::boxed::Box;
use heapless::{String, Vec};
use ota_agent::ImageVerdict;
use ota_agent_zephyr::capi::{CustomJobHook, EventCb, UserData};
use ota_agent_zephyr::key::SEC1_MAX;

/// AWS IoT's longest thing name.
pub const THING_MAX: usize = 128;

/// Everything `ota_agent_init` needs, copied out of the caller's memory.
pub struct InitRequest {
    /// The application's `struct mqtt_client`.
    pub client: UserData,
    /// The thing name.
    pub thing: String<THING_MAX>,
    /// The SEC1 code-signing key.
    pub key: Vec<u8, SEC1_MAX>,
    /// The event callback and its user data.
    pub event_cb: Option<(EventCb, UserData)>,
    /// The custom job callback.
    pub custom_job: Option<CustomJobHook>,
}

/// An API call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `OTA_Shutdown`.
    Shutdown {
        /// Unsubscribe from the agent's topics.
        unsubscribe: bool,
    },
    /// `OTA_CheckForUpdate`.
    CheckForUpdate,
    /// `OTA_Suspend`.
    Suspend,
    /// `OTA_Resume`.
    Resume,
    /// `OTA_ActivateNewImage`.
    Activate,
    /// `OTA_SetImageState`.
    SetImageState(ImageVerdict),
}

/// One input for the agent thread.
pub enum Input {
    /// Create (or re-create after shutdown) and start the agent; the result
    /// is replied with this sequence number, if any.
    Init(Box<InitRequest>, Option<u32>),
    /// An MQTT message: the topic's bytes, then the payload's, in one allocation.
    Message {
        /// Topic then payload.
        data: Box<[u8]>,
        /// Where the topic ends.
        topic_len: usize,
    },
    /// A PUBACK for an agent message id.
    Puback(u16),
    /// An API call; the result is replied with `reply_to`, if any.
    Call {
        /// The call.
        command: Command,
        /// The waiting caller's sequence number.
        reply_to: Option<u32>,
    },
}

/// `(seq, result)`: the result of a call or an init, as a C return code.
pub type Reply = (u32, i32);
