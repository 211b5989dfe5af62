//! What goes out: transmits (rendered only when the port asks, into the
//! port's buffer), the next deadline, and application events.

use super::{Agent, Pending, Phase};
use crate::cbor::{self, StreamRequest, CLIENT_TOKEN};
use crate::download::Plane;
use crate::event::Event;
use crate::platform::Platform;
use crate::time::Instant;
use crate::topics;
use crate::transmit::{DeliveryToken, QoS, Transmit, TransmitBuffer};
use crate::writer::SliceWriter;
use core::fmt::{self, Write};

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

/// Render a topic, then a payload after it, into one buffer.
fn render(
    buf: &mut [u8],
    topic: impl FnOnce(&mut SliceWriter) -> fmt::Result,
    payload: impl FnOnce(&mut [u8]) -> Option<usize>,
) -> Option<(&str, &[u8])> {
    let mut w = SliceWriter::new(buf);
    topic(&mut w).ok()?;
    let (topic, rest) = w.split();
    let n = payload(rest)?;
    Some((core::str::from_utf8(topic).ok()?, &rest[..n]))
}

fn topic_only(buf: &mut [u8], topic: impl FnOnce(&mut SliceWriter) -> fmt::Result) -> Option<&str> {
    render(buf, topic, |_| Some(0)).map(|(t, _)| t)
}

fn with_writer(out: &mut [u8], f: impl FnOnce(&mut SliceWriter) -> fmt::Result) -> Option<usize> {
    let mut w = SliceWriter::new(out);
    f(&mut w).ok()?;
    Some(w.len())
}

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// The next thing to send, rendered into `buf`. Call until `None` after
    /// every input. Nothing goes out while suspended.
    pub fn poll_transmit<'a>(&'a mut self, buf: &'a mut TransmitBuffer) -> Option<Transmit<'a>> {
        if self.suspended {
            return None;
        }
        let flag = ORDER.into_iter().find(|&f| self.pending.has(f))?;
        self.pending.clear(flag);
        let buf = &mut buf.0[..];
        let thing = self.thing.as_str();
        let t = match flag {
            Pending::SUB_NOTIFY => Transmit::Subscribe {
                topic: topic_only(buf, |w| topics::notify_next(w, thing))?,
                qos: QoS::AtLeastOnce,
            },
            Pending::SUB_ACCEPTED => Transmit::Subscribe {
                topic: topic_only(buf, |w| topics::next_accepted(w, thing))?,
                qos: QoS::AtLeastOnce,
            },
            Pending::UNSUB_NOTIFY => Transmit::Unsubscribe {
                topic: topic_only(buf, |w| topics::notify_next(w, thing))?,
            },
            Pending::UNSUB_ACCEPTED => Transmit::Unsubscribe {
                topic: topic_only(buf, |w| topics::next_accepted(w, thing))?,
            },
            Pending::SUB_DATA => Transmit::Subscribe {
                topic: topic_only(buf, |w| topics::stream_data(w, thing, &self.job.stream))?,
                qos: QoS::AtMostOnce,
            },
            Pending::UNSUB_DATA => Transmit::Unsubscribe {
                topic: topic_only(buf, |w| topics::stream_data(w, thing, &self.job.stream))?,
            },
            Pending::JOB_REQUEST => {
                let counter = self.requests_sent;
                self.requests_sent = self.requests_sent.wrapping_add(1);
                let short = &thing[..thing.len().min(TOKEN_THING_CHARS)];
                let (topic, payload) = render(
                    buf,
                    |w| topics::next_get(w, thing),
                    |out| {
                        with_writer(out, |w| {
                            write!(w, r#"{{"clientToken":"{counter}:{short}"}}"#)
                        })
                    },
                )?;
                Transmit::Publish {
                    topic,
                    payload,
                    qos: QoS::AtLeastOnce,
                    delivery: None,
                }
            }
            Pending::STATUS => {
                let status = self.status?;
                let delivery = match (&self.phase, status.qos()) {
                    (Phase::Reporting(_), QoS::AtLeastOnce) => {
                        self.next_token = self.next_token.wrapping_add(1);
                        self.awaiting = Some(DeliveryToken(self.next_token));
                        self.awaiting
                    }
                    _ => None,
                };
                let (topic, payload) = render(
                    buf,
                    |w| topics::job_update(w, thing, &self.job.id),
                    |out| with_writer(out, |w| status.render(w)),
                )?;
                Transmit::Publish {
                    topic,
                    payload,
                    qos: status.qos(),
                    delivery,
                }
            }
            Pending::DATA_REQUEST => {
                let Phase::Transfer(d) = &mut self.phase else {
                    return None;
                };
                match d.plane() {
                    Plane::Mqtt => {
                        let (offset, bitmap) = d.request_window();
                        let req = StreamRequest {
                            client_token: CLIENT_TOKEN,
                            file_id: self.job.file_id as u32,
                            block_size: self.config.block_size,
                            offset,
                            bitmap,
                            count: self.config.blocks_per_request,
                        };
                        let (topic, payload) = render(
                            buf,
                            |w| topics::stream_get(w, thing, &self.job.stream),
                            |out| cbor::encode_request(&req, out).ok(),
                        )?;
                        Transmit::Publish {
                            topic,
                            payload,
                            qos: QoS::AtMostOnce,
                            delivery: None,
                        }
                    }
                    Plane::Http => {
                        let (first, last) = d.next_range(self.config.http_range_size);
                        Transmit::HttpGet {
                            url: self.url.as_str(),
                            first,
                            last,
                        }
                    }
                }
            }
            _ => return None,
        };
        Some(t)
    }

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) then
    /// (or earlier, it is harmless). `None` while suspended or stopped.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.suspended || matches!(self.phase, Phase::Init | Phase::Stopped) {
            return None;
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
