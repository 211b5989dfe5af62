//! What goes out: transmits (rendered only when the port asks, into a
//! buffer on `poll_transmit`'s stack), the next deadline, and application
//! events.

use super::{Agent, Pending, Phase};
use crate::cbor::{self, StreamRequest, CLIENT_TOKEN};
use crate::download::Plane;
use crate::event::Event;
use crate::platform::Platform;
use crate::time::Instant;
use crate::topics::{self, Topic};
use crate::transmit::{DeliveryToken, QoS, Transmit, MAX_TRANSMIT_LEN};
use crate::writer::{Full, SliceWriter};

/// The clientToken of `$next/get` carries at most this much of the thing
/// name, so the token stays within AWS's 64 bytes.
const TOKEN_THING_CHARS: usize = 53;

/// Where a pending transmit goes: the topic and which name fills it.
#[derive(Clone, Copy)]
enum Name {
    None,
    Stream,
    JobId,
}

/// What a pending transmit is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Subscribe(QoS),
    Unsubscribe,
    JobRequest,
    Status,
    StreamRequest,
}

/// Every pending flag with its topic and kind, in the order transmits go
/// out: subscriptions before the requests that need them, a job's status
/// before the request for the next job.
const ROUTES: [(u16, Topic, Name, Kind); 9] = [
    (
        Pending::SUB_NOTIFY,
        Topic::NotifyNext,
        Name::None,
        Kind::Subscribe(QoS::AtLeastOnce),
    ),
    (
        Pending::SUB_ACCEPTED,
        Topic::NextAccepted,
        Name::None,
        Kind::Subscribe(QoS::AtLeastOnce),
    ),
    (
        Pending::UNSUB_DATA,
        Topic::StreamData,
        Name::Stream,
        Kind::Unsubscribe,
    ),
    (Pending::STATUS, Topic::JobUpdate, Name::JobId, Kind::Status),
    (
        Pending::JOB_REQUEST,
        Topic::NextGet,
        Name::None,
        Kind::JobRequest,
    ),
    (
        Pending::SUB_DATA,
        Topic::StreamData,
        Name::Stream,
        Kind::Subscribe(QoS::AtMostOnce),
    ),
    (
        Pending::DATA_REQUEST,
        Topic::StreamGet,
        Name::Stream,
        Kind::StreamRequest,
    ),
    (
        Pending::UNSUB_NOTIFY,
        Topic::NotifyNext,
        Name::None,
        Kind::Unsubscribe,
    ),
    (
        Pending::UNSUB_ACCEPTED,
        Topic::NextAccepted,
        Name::None,
        Kind::Unsubscribe,
    ),
];

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// Render the next thing to send and hand it to `send`; what `send`
    /// returned, or `None` when there is nothing to send. Call until `None`
    /// after every input. Nothing goes out while suspended.
    ///
    /// The transmit is rendered into a [`MAX_TRANSMIT_LEN`]-byte buffer on
    /// this call's stack and borrows it (and the agent) only while `send`
    /// runs: `send` copies or sends what it needs.
    pub fn poll_transmit<R>(&mut self, send: impl FnOnce(Transmit<'_>) -> R) -> Option<R> {
        // Checked before the buffer is zeroed: most calls are the last of a
        // drain, with nothing to send.
        if self.suspended || self.pending.is_empty() {
            return None;
        }
        let mut buf = [0; MAX_TRANSMIT_LEN];
        // Each try takes one flag off `pending`, rendered or not, so one
        // that cannot be rendered does not hold back the ones after it.
        for _ in 0..ROUTES.len() {
            if let Some(t) = self.render_transmit(&mut buf) {
                return Some(send(t));
            }
        }
        None
    }

    /// Take the first pending flag and render what it stands for into
    /// `buf`; `None` when nothing is pending or it could not be rendered.
    /// The body of [`poll_transmit`](Self::poll_transmit) (which has checked
    /// that the agent is not suspended), apart from it so that it does not
    /// depend on the closure's type: each closure gets its own copy of
    /// `poll_transmit`, not of this.
    fn render_transmit<'a>(
        &'a mut self,
        buf: &'a mut [u8; MAX_TRANSMIT_LEN],
    ) -> Option<Transmit<'a>> {
        let &(flag, topic, name, kind) = ROUTES.iter().find(|r| self.pending.has(r.0))?;
        self.pending.clear(flag);
        if let (Kind::StreamRequest, Phase::Transfer(d)) = (kind, &mut self.phase) {
            if Self::plane(d) == Plane::Http {
                let (first, last) = d.next_range(self.config.http_range_size);
                return Some(Transmit::HttpGet {
                    url: crate::ascii::ascii(&self.url[..self.url_len])?,
                    first,
                    last,
                });
            }
        }
        let name = match name {
            Name::None => "",
            Name::Stream => self.job.stream.as_str(),
            Name::JobId => self.job.id.as_str(),
        };
        let mut w = SliceWriter::new(buf);
        topics::write(&mut w, topic, &self.thing, name).ok()?;
        let (topic, rest) = w.split();
        let topic = crate::ascii::ascii(topic)?;
        let (len, qos, delivery) = match kind {
            Kind::Subscribe(qos) => return Some(Transmit::Subscribe { topic, qos }),
            Kind::Unsubscribe => return Some(Transmit::Unsubscribe { topic }),
            Kind::JobRequest => (self.job_request(rest)?, QoS::AtLeastOnce, None),
            Kind::Status => self.status_body(rest)?,
            Kind::StreamRequest => (self.stream_request(rest)?, QoS::AtMostOnce, None),
        };
        Some(Transmit::Publish {
            topic,
            payload: &rest[..len],
            qos,
            delivery,
        })
    }

    /// The status body; a QoS 1 status that ends a phase gets a delivery
    /// token, which the agent then waits for.
    fn status_body(&mut self, out: &mut [u8]) -> Option<(usize, QoS, Option<DeliveryToken>)> {
        let status = self.status?;
        let mut w = SliceWriter::new(out);
        status.render(&mut w).ok()?;
        let qos = status.qos();
        let delivery = match (&self.phase, qos) {
            (Phase::Reporting(_), QoS::AtLeastOnce) => {
                self.next_token = self.next_token.wrapping_add(1);
                self.awaiting = Some(DeliveryToken(self.next_token));
                self.awaiting
            }
            _ => None,
        };
        Some((w.len(), qos, delivery))
    }

    /// The `$next/get` body: `{"clientToken":"<counter>:<thing>"}`.
    fn job_request(&mut self, out: &mut [u8]) -> Option<usize> {
        let counter = self.requests_sent;
        self.requests_sent = self.requests_sent.wrapping_add(1);
        let mut w = SliceWriter::new(out);
        w.str(r#"{"clientToken":""#)
            .and_then(|w| self.write_token(w, counter))
            .and_then(|w| w.str(r#""}"#))
            .ok()?;
        Some(w.len())
    }

    /// The clientToken of request `counter`: `<counter>:<thing>`, with at
    /// most [`TOKEN_THING_CHARS`] of the thing name.
    // Out of line: `is_latest_reply` writes it too, to compare (measured
    // smaller on thumbv7em).
    #[inline(never)]
    pub(super) fn write_token<'w, 'b>(
        &self,
        w: &'w mut SliceWriter<'b>,
        counter: u32,
    ) -> Result<&'w mut SliceWriter<'b>, Full> {
        let thing = self.thing.as_bytes();
        let short = &thing[..thing.len().min(TOKEN_THING_CHARS)];
        w.dec(counter)?.str(":")?.bytes(short)
    }

    /// The GetStream request for the window's needed blocks.
    fn stream_request(&self, out: &mut [u8]) -> Option<usize> {
        let Phase::Transfer(d) = &self.phase else {
            return None;
        };
        let (offset, bitmap) = d.request_window();
        let req = StreamRequest {
            client_token: CLIENT_TOKEN,
            file_id: self.job.file_id as u32,
            block_size: self.config.block_size,
            offset,
            bitmap,
            count: self.config.blocks_per_request,
        };
        cbor::encode_request(&req, out).ok()
    }

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) then
    /// (or earlier, it is harmless). While suspended, only the self-test
    /// window's; `None` when stopped.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.phase, Phase::Init | Phase::Stopped) {
            return None;
        }
        if self.suspended {
            return self.self_test_deadline.get();
        }
        self.request_deadline.min(self.self_test_deadline).get()
    }

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
