//! What goes out: transmits (rendered only when the port asks, into the
//! port's buffer), the next deadline, and application events.

use super::{Agent, Pending, Phase};
use crate::cbor::{self, StreamRequest, CLIENT_TOKEN};
use crate::download::Plane;
use crate::event::Event;
use crate::platform::Platform;
use crate::time::Instant;
use crate::topics::{self, Topic};
use crate::transmit::{DeliveryToken, QoS, Transmit, TransmitBuffer};
use crate::writer::SliceWriter;

/// The clientToken of `$next/get` carries at most this much of the thing
/// name, so the token stays within AWS's 64 bytes.
pub(super) const TOKEN_THING_CHARS: usize = 53;

/// The order transmits go out in: subscriptions before the requests that
/// need them, a job's status before the request for the next job.
const ORDER: [u16; 9] = [
    Pending::SUB_NOTIFY,
    Pending::SUB_ACCEPTED,
    Pending::UNSUB_DATA,
    Pending::STATUS,
    Pending::JOB_REQUEST,
    Pending::SUB_DATA,
    Pending::DATA_REQUEST,
    Pending::UNSUB_NOTIFY,
    Pending::UNSUB_ACCEPTED,
];

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// The next thing to send, rendered into `buf`. Call until `None` after
    /// every input. Nothing goes out while suspended.
    pub fn poll_transmit<'a>(&'a mut self, buf: &'a mut TransmitBuffer) -> Option<Transmit<'a>> {
        if self.suspended {
            return None;
        }
        let flag = ORDER.into_iter().find(|&f| self.pending.has(f))?;
        self.pending.clear(flag);
        let http = matches!(&self.phase, Phase::Transfer(d) if d.plane() == Plane::Http);
        if flag == Pending::DATA_REQUEST && http {
            let Phase::Transfer(d) = &mut self.phase else {
                return None;
            };
            let (first, last) = d.next_range(self.config.http_range_size);
            return Some(Transmit::HttpGet {
                url: core::str::from_utf8(&self.url[..self.url_len]).ok()?,
                first,
                last,
            });
        }
        let (topic, name) = match flag {
            Pending::SUB_NOTIFY | Pending::UNSUB_NOTIFY => (Topic::NotifyNext, ""),
            Pending::SUB_ACCEPTED | Pending::UNSUB_ACCEPTED => (Topic::NextAccepted, ""),
            Pending::SUB_DATA | Pending::UNSUB_DATA => {
                (Topic::StreamData, self.job.stream.as_str())
            }
            Pending::JOB_REQUEST => (Topic::NextGet, ""),
            Pending::STATUS => (Topic::JobUpdate, self.job.id.as_str()),
            _ => (Topic::StreamGet, self.job.stream.as_str()),
        };
        let mut w = SliceWriter::new(&mut buf.0);
        topics::write(&mut w, topic, &self.thing, name).ok()?;
        let (topic, rest) = w.split();
        let topic = core::str::from_utf8(topic).ok()?;
        let (qos, delivery, len) = match flag {
            Pending::SUB_NOTIFY | Pending::SUB_ACCEPTED => {
                return Some(Transmit::Subscribe {
                    topic,
                    qos: QoS::AtLeastOnce,
                })
            }
            Pending::SUB_DATA => {
                return Some(Transmit::Subscribe {
                    topic,
                    qos: QoS::AtMostOnce,
                })
            }
            Pending::UNSUB_NOTIFY | Pending::UNSUB_ACCEPTED | Pending::UNSUB_DATA => {
                return Some(Transmit::Unsubscribe { topic })
            }
            Pending::JOB_REQUEST => (QoS::AtLeastOnce, None, self.job_request(rest)?),
            Pending::STATUS => {
                let status = self.status?;
                let mut pw = SliceWriter::new(rest);
                status.render(&mut pw).ok()?;
                let len = pw.len();
                let delivery = match (&self.phase, status.qos()) {
                    (Phase::Reporting(_), QoS::AtLeastOnce) => {
                        self.next_token = self.next_token.wrapping_add(1);
                        self.awaiting = Some(DeliveryToken(self.next_token));
                        self.awaiting
                    }
                    _ => None,
                };
                (status.qos(), delivery, len)
            }
            _ => (QoS::AtMostOnce, None, self.stream_request(rest)?),
        };
        Some(Transmit::Publish {
            topic,
            payload: &rest[..len],
            qos,
            delivery,
        })
    }

    /// The `$next/get` body: `{"clientToken":"<counter>:<thing>"}`.
    fn job_request(&mut self, out: &mut [u8]) -> Option<usize> {
        let counter = self.requests_sent;
        self.requests_sent = self.requests_sent.wrapping_add(1);
        let thing = self.thing.as_bytes();
        let short = &thing[..thing.len().min(TOKEN_THING_CHARS)];
        let mut w = SliceWriter::new(out);
        w.str(r#"{"clientToken":""#)
            .and_then(|w| w.dec(counter))
            .and_then(|w| w.str(":"))
            .and_then(|w| w.bytes(short))
            .and_then(|w| w.str(r#""}"#))
            .ok()?;
        Some(w.len())
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
            return self.self_test_deadline;
        }
        match (self.request_deadline, self.self_test_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
