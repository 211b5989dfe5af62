//! The agent's side of the connection: performs its MQTT transmits, feeds it
//! what arrives, and tells it about disconnects and reconnects.

use ota_agent::{Agent, Instant, Platform, QoS, State, Transmit};

use super::delivery::DeliveryTracker;
use super::link::{LinkEvent, Session};

/// What a [`LinkEvent`] meant for the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connectivity {
    /// Connected (the agent was started or resumed).
    Connected,
    /// The connection was lost (the agent is suspended).
    Disconnected(String),
    /// A connection attempt failed.
    Unreachable(String),
    /// Nothing changed.
    Unchanged,
}

/// Drives an [`Agent`] over an [`MqttLink`](super::MqttLink): see the
/// [module documentation](super).
#[derive(Debug, Default)]
pub struct MqttDriver {
    session: Option<Session>,
    tracker: DeliveryTracker,
}

fn qos(q: QoS) -> rumqttc::QoS {
    match q {
        QoS::AtMostOnce => rumqttc::QoS::AtMostOnce,
        QoS::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
    }
}

impl MqttDriver {
    /// A driver with no connection yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a connection is up.
    pub fn is_connected(&self) -> bool {
        self.session.is_some()
    }

    /// Perform an MQTT transmit (subscribe, unsubscribe, publish); `false`
    /// for an HTTP request, which is not for this driver. Without a
    /// connection, or when the request queue is full, the transmit is lost:
    /// the agent re-sends what matters after its timeout or on reconnect.
    pub fn transmit(&mut self, transmit: &Transmit<'_>) -> bool {
        let Some(session) = &self.session else {
            return !matches!(transmit, Transmit::HttpGet { .. });
        };
        let client = &session.client;
        let result = match *transmit {
            Transmit::Subscribe { topic, qos: q } => client.try_subscribe(topic, qos(q)),
            Transmit::Unsubscribe { topic } => client.try_unsubscribe(topic),
            Transmit::Publish {
                topic,
                payload,
                qos: q,
                delivery,
            } => {
                let result = client.try_publish(topic, qos(q), false, payload);
                if result.is_ok() && q == QoS::AtLeastOnce {
                    self.tracker.queued(delivery);
                }
                result
            }
            Transmit::HttpGet { .. } => return false,
        };
        if let Err(e) = result {
            log::warn!("mqtt: could not queue a request: {e}");
        }
        true
    }

    /// Apply a link event: start or resume the agent on a connection, suspend
    /// it on a disconnect, hand it messages and acknowledgements. Drain the
    /// agent's outputs afterwards.
    pub fn handle<P: Platform, const URL_CAP: usize>(
        &mut self,
        agent: &mut Agent<P, URL_CAP>,
        now: Instant,
        event: LinkEvent,
    ) -> Connectivity {
        match event {
            LinkEvent::Connected(session) => {
                self.session = Some(session);
                self.tracker.reset();
                let result = if agent.state() == State::Init {
                    agent.start(now)
                } else {
                    agent.resume(now)
                };
                if let Err(e) = result {
                    log::warn!("mqtt: the agent did not restart after the connection: {e:?}");
                }
                Connectivity::Connected
            }
            LinkEvent::Disconnected(reason) => {
                self.session = None;
                self.tracker.reset();
                // Not started yet (or stopped): nothing to suspend.
                let _ = agent.suspend();
                Connectivity::Disconnected(reason)
            }
            LinkEvent::Unreachable(reason) => Connectivity::Unreachable(reason),
            LinkEvent::Message { topic, payload } => {
                agent.handle_message(now, &topic, &payload);
                Connectivity::Unchanged
            }
            LinkEvent::Sent(pkid) => {
                self.tracker.sent(pkid);
                Connectivity::Unchanged
            }
            LinkEvent::Collided(pkid) => {
                self.tracker.collided(pkid);
                Connectivity::Unchanged
            }
            LinkEvent::PubAck(pkid) => {
                if let Some(token) = self.tracker.acked(pkid) {
                    agent.handle_delivered(now, token);
                }
                Connectivity::Unchanged
            }
        }
    }
}
