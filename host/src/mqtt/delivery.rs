//! Which agent [`DeliveryToken`] a PUBACK acknowledges.
//!
//! rumqttc assigns packet ids itself and reports them afterwards: for every
//! QoS 1 publish its event loop takes from the request channel (strictly in
//! the order they were queued) it emits `Outgoing::Publish(pkid)` (QoS 0
//! publishes report pkid 0). When the id is still in flight from an earlier
//! publish (a "collision"), it emits `Outgoing::AwaitAck(pkid)` instead,
//! holds the publish, and sends it later with the same id, emitting a second
//! `Outgoing::Publish(pkid)` then. On a reconnect with a clean session,
//! whatever was queued is dropped without events, so the tracker is reset
//! for every connection (the driver uses a fresh client per connection).

use std::collections::{HashMap, HashSet, VecDeque};

use ota_agent::DeliveryToken;

/// Matches QoS 1 publishes, in queue order, to the packet ids rumqttc
/// reports, and PUBACKs back to tokens.
#[derive(Debug, Default)]
pub(crate) struct DeliveryTracker {
    /// QoS 1 publishes queued but not yet given an id.
    queued: VecDeque<Option<DeliveryToken>>,
    /// Packet id → the token waiting for its PUBACK.
    in_flight: HashMap<u16, DeliveryToken>,
    /// Ids reported by `AwaitAck` whose `Publish` event is still to come.
    collided: HashSet<u16>,
}

impl DeliveryTracker {
    /// A QoS 1 publish was queued (with the token the agent waits for, if any).
    pub(crate) fn queued(&mut self, token: Option<DeliveryToken>) {
        self.queued.push_back(token);
    }

    /// `Outgoing::Publish(pkid)`.
    pub(crate) fn sent(&mut self, pkid: u16) {
        if pkid == 0 || self.collided.remove(&pkid) {
            return;
        }
        self.assign(pkid);
    }

    /// `Outgoing::AwaitAck(pkid)`: the publish has its id but waits.
    pub(crate) fn collided(&mut self, pkid: u16) {
        self.collided.insert(pkid);
        self.assign(pkid);
    }

    fn assign(&mut self, pkid: u16) {
        match self.queued.pop_front() {
            Some(Some(token)) => {
                self.in_flight.insert(pkid, token);
            }
            Some(None) => {
                self.in_flight.remove(&pkid);
            }
            None => log::warn!("mqtt: packet id {pkid} reported for no queued publish"),
        }
    }

    /// `Incoming::PubAck(pkid)`: the token it acknowledges, if the agent waits.
    pub(crate) fn acked(&mut self, pkid: u16) -> Option<DeliveryToken> {
        self.in_flight.remove(&pkid)
    }

    /// A new connection: nothing queued before it will be reported.
    pub(crate) fn reset(&mut self) {
        *self = DeliveryTracker::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: DeliveryToken = DeliveryToken(10);
    const B: DeliveryToken = DeliveryToken(11);

    #[test]
    fn tokens_follow_queue_order_and_untracked_publishes_take_their_turn() {
        let mut t = DeliveryTracker::default();
        t.queued(None); // a job request
        t.queued(Some(A));
        t.queued(Some(B));
        t.sent(0); // a QoS 0 publish in between: not counted
        t.sent(1);
        t.sent(2);
        t.sent(3);
        assert_eq!(t.acked(1), None);
        assert_eq!(t.acked(3), Some(B));
        assert_eq!(t.acked(2), Some(A));
        assert_eq!(t.acked(2), None, "a PUBACK counts once");
    }

    #[test]
    fn a_collision_keeps_its_id_and_its_late_publish_event_is_not_counted() {
        let mut t = DeliveryTracker::default();
        t.queued(Some(A));
        t.queued(Some(B));
        t.collided(5); // A waits for id 5 to be freed
        t.sent(6); // B goes out
        t.sent(5); // A goes out later under its id
        assert_eq!(t.acked(5), Some(A));
        assert_eq!(t.acked(6), Some(B));
    }

    #[test]
    fn reset_forgets_everything_queued() {
        let mut t = DeliveryTracker::default();
        t.queued(Some(A));
        t.reset();
        t.queued(Some(B));
        t.sent(1);
        assert_eq!(t.acked(1), Some(B));
    }

    #[test]
    fn a_reused_id_without_token_does_not_ack_an_old_token() {
        let mut t = DeliveryTracker::default();
        t.queued(Some(A));
        t.sent(1);
        t.queued(None);
        t.sent(1); // id 1 reused (the PUBACK for A was lost with nothing to wait for)
        assert_eq!(t.acked(1), None);
    }
}
