//! [`Driver`]: the sans-IO agent plus the I/O it asks for.
//!
//! Every input goes through the driver, which then drains
//! [`Agent::poll_transmit`] into a [`Link`]: subscribes, unsubscribes and
//! publishes with message ids from [`MessageIds`], and HTTP range requests,
//! whose body is fed back into the agent as it arrives. Events are left in
//! the agent for the caller to take with [`Driver::poll_event`]. The driver
//! never blocks except inside [`Link::http_get`].

use crate::link::{HttpResult, Link};
use crate::msgid::MessageIds;
use crate::url;
use heapless::String;
use ota_agent::{Agent, Event, HttpOutcome, Instant, Platform, Processed, QoS, Transmit};

/// A range request the agent asked for, waiting to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RangeRequest {
    first: u32,
    last: u32,
}

/// The agent and its link. `URL_CAP` is the agent's URL buffer (0 without
/// HTTP).
pub struct Driver<P: Platform, L: Link, const URL_CAP: usize> {
    agent: Agent<P, URL_CAP>,
    link: L,
    ids: MessageIds,
    clock: fn() -> Instant,
    url: String<URL_CAP>,
    range: Option<RangeRequest>,
}

impl<P: Platform, L: Link, const URL_CAP: usize> Driver<P, L, URL_CAP> {
    /// Drive `agent` through `link`; `clock` reads the time during HTTP
    /// transfers, which can take longer than a tick.
    pub fn new(agent: Agent<P, URL_CAP>, link: L, clock: fn() -> Instant) -> Self {
        Driver {
            agent,
            link,
            ids: MessageIds::new(),
            clock,
            url: String::new(),
            range: None,
        }
    }

    /// Run an API call (or any use of the agent), then send what it produced.
    pub fn apply<R>(&mut self, f: impl FnOnce(&mut Agent<P, URL_CAP>, Instant) -> R) -> R {
        let now = (self.clock)();
        let r = f(&mut self.agent, now);
        self.flush();
        r
    }

    /// An MQTT message the application's event handler passed on.
    pub fn handle_message(&mut self, topic: &[u8], payload: &[u8]) -> Processed {
        self.apply(|agent, now| agent.handle_message(now, topic, payload))
    }

    /// A PUBACK for one of the agent's message ids.
    pub fn handle_puback(&mut self, msg_id: u16) {
        if let Some(token) = self.ids.acknowledged(msg_id) {
            self.apply(|agent, now| agent.handle_delivered(now, token));
        }
    }

    /// Messages the port dropped before they reached the driver.
    pub fn record_dropped(&mut self, count: u32) {
        for _ in 0..count {
            self.agent.record_dropped();
        }
    }

    /// Act on the deadlines that passed.
    pub fn handle_timeout(&mut self) {
        self.apply(|agent, now| agent.handle_timeout(now));
    }

    /// The next deadline, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.agent.poll_timeout()
    }

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.agent.poll_event()
    }

    /// The agent, for reading its state.
    pub fn agent(&self) -> &Agent<P, URL_CAP> {
        &self.agent
    }

    /// Send everything the agent has queued, running HTTP range requests
    /// (which may queue more) until nothing is left.
    fn flush(&mut self) {
        loop {
            self.send_queued();
            match self.range.take() {
                Some(range) => self.run_range(range),
                None => break,
            }
        }
    }

    fn send_queued(&mut self) {
        while self
            .agent
            .poll_transmit(|t| {
                let (what, result) = match t {
                    Transmit::Subscribe { topic, qos } => (
                        "subscribe",
                        self.link.subscribe(topic, qos, self.ids.allocate()),
                    ),
                    Transmit::Unsubscribe { topic } => (
                        "unsubscribe",
                        self.link.unsubscribe(topic, self.ids.allocate()),
                    ),
                    Transmit::Publish {
                        topic,
                        payload,
                        qos,
                        delivery,
                    } => {
                        let id = match qos {
                            QoS::AtMostOnce => 0,
                            QoS::AtLeastOnce => self.ids.for_publish(delivery),
                        };
                        ("publish", self.link.publish(topic, payload, qos, id))
                    }
                    Transmit::HttpGet { url, first, last } => {
                        self.url.clear();
                        // The agent's URL buffer has the same capacity.
                        let _ = self.url.push_str(url);
                        self.range = Some(RangeRequest { first, last });
                        return;
                    }
                };
                if let Err(e) = result {
                    log::warn!("ota: {what} failed ({e}); the agent will retry");
                }
            })
            .is_some()
        {}
    }

    fn run_range(&mut self, range: RangeRequest) {
        let Some(url) = url::parse(&self.url) else {
            log::error!("ota: cannot fetch this URL (scheme, host or port)");
            let now = (self.clock)();
            self.agent
                .handle_http_done(now, HttpOutcome::Failed { status: 0 });
            return;
        };
        let (agent, clock) = (&mut self.agent, self.clock);
        let mut next: Option<u32> = None;
        let mut sink = |status: u16, data: &[u8]| {
            if !matches!(status, 200 | 206) {
                return true; // an error body: drained, not written
            }
            let offset = *next.get_or_insert(if status == 206 { range.first } else { 0 });
            next = Some(offset.saturating_add(data.len() as u32));
            !matches!(
                agent.handle_http_data(clock(), offset, data),
                Processed::TransferFailed
            )
        };
        let result = self.link.http_get(&url, range.first, range.last, &mut sink);
        let outcome = match result {
            HttpResult::Status(200 | 206) => HttpOutcome::Complete,
            HttpResult::Status(status) => HttpOutcome::Failed { status },
            HttpResult::Transport(e) => {
                log::warn!("ota: HTTP range request failed ({e})");
                HttpOutcome::Failed { status: 0 }
            }
        };
        self.agent.handle_http_done((self.clock)(), outcome);
    }
}

#[cfg(test)]
mod tests;
