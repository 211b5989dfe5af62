//! MQTT message ids for the agent's packets, and the map from a PUBACK back
//! to the core's [`DeliveryToken`].
//!
//! The application shares the `struct mqtt_client` with the agent, so the
//! two must not pick the same ids: the agent uses only ids with the top bit
//! set (`0x8000..=0xFFFF`), the application only `1..=0x7FFF`.
//! `ota_agent_mqtt_evt_handler()` claims PUBACK/SUBACK/UNSUBACK events by
//! that bit.

use ota_agent::DeliveryToken;

/// Ids with this bit set belong to the agent.
pub const AGENT_ID_BIT: u16 = 0x8000;

/// Publishes awaiting a PUBACK that the agent cares about. The core waits
/// for one status at a time; a few more cover retransmissions.
const TRACKED: usize = 4;

/// Whether a message id is one the agent allocated.
pub const fn is_agent_id(id: u16) -> bool {
    id & AGENT_ID_BIT != 0
}

/// Allocates ids and remembers which QoS 1 publishes carry a token.
#[derive(Debug, Default)]
pub struct MessageIds {
    counter: u16,
    tracked: [Option<(u16, DeliveryToken)>; TRACKED],
    oldest: usize,
}

impl MessageIds {
    /// A fresh allocator.
    pub const fn new() -> Self {
        MessageIds {
            counter: 0,
            tracked: [None; TRACKED],
            oldest: 0,
        }
    }

    /// The next agent id (never 0, always with [`AGENT_ID_BIT`]).
    pub fn allocate(&mut self) -> u16 {
        self.counter = (self.counter + 1) & !AGENT_ID_BIT;
        AGENT_ID_BIT | self.counter
    }

    /// An id for a QoS 1 publish; its PUBACK will report `token` if present.
    pub fn for_publish(&mut self, token: Option<DeliveryToken>) -> u16 {
        let id = self.allocate();
        if let Some(token) = token {
            self.tracked[self.oldest] = Some((id, token));
            self.oldest = (self.oldest + 1) % TRACKED;
        }
        id
    }

    /// The token the PUBACK for `id` acknowledges, if any (only once).
    pub fn acknowledged(&mut self, id: u16) -> Option<DeliveryToken> {
        let slot = self
            .tracked
            .iter_mut()
            .find(|s| s.is_some_and(|(i, _)| i == id))?;
        slot.take().map(|(_, token)| token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_in_the_agent_range_and_skip_zero() {
        let mut ids = MessageIds::new();
        let mut seen_wrap = false;
        for _ in 0..70_000 {
            let id = ids.allocate();
            assert!(is_agent_id(id));
            seen_wrap |= id == AGENT_ID_BIT;
        }
        assert!(seen_wrap, "the counter wraps within the range");
        assert!(!is_agent_id(0x7fff));
    }

    #[test]
    fn pubacks_map_back_to_tokens_once() {
        let mut ids = MessageIds::new();
        let plain = ids.for_publish(None);
        let id = ids.for_publish(Some(DeliveryToken(9)));
        assert_eq!(ids.acknowledged(plain), None);
        assert_eq!(ids.acknowledged(id), Some(DeliveryToken(9)));
        assert_eq!(ids.acknowledged(id), None);
    }

    #[test]
    fn oldest_tracked_publish_is_forgotten() {
        let mut ids = MessageIds::new();
        let first = ids.for_publish(Some(DeliveryToken(1)));
        for t in 2..=TRACKED as u16 + 1 {
            ids.for_publish(Some(DeliveryToken(t)));
        }
        assert_eq!(ids.acknowledged(first), None);
    }
}
