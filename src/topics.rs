//! MQTT topics of the Jobs and stream APIs (PROTOCOL.md §2.1).

use crate::writer::{Full, SliceWriter};

const PREFIX: &str = "$aws/things/";

/// The agent topics an incoming message can be on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Incoming<'t> {
    /// `jobs/notify-next`.
    NotifyNext,
    /// `jobs/$next/get/accepted`.
    NextAccepted,
    /// `streams/{stream}/data/cbor`.
    StreamData(&'t [u8]),
    /// Anything else.
    Other,
}

/// Classify `topic` for the device `thing`.
pub(crate) fn classify<'t>(thing: &str, topic: &'t [u8]) -> Incoming<'t> {
    let matches = |t| name_in(template(t), thing, topic);
    if matches(Topic::NotifyNext).is_some() {
        Incoming::NotifyNext
    } else if matches(Topic::NextAccepted).is_some() {
        Incoming::NextAccepted
    } else {
        matches(Topic::StreamData).map_or(Incoming::Other, Incoming::StreamData)
    }
}

/// If `topic` is `template` (see [`template`]) for `thing`, the name in it:
/// any text without a `/`, or "" if the template has none.
fn name_in<'t>(template: &str, thing: &str, t: &'t [u8]) -> Option<&'t [u8]> {
    let mut fixed = [PREFIX, thing].into_iter();
    let mut at = 0;
    let mut name = 0..0;
    for &b in template.as_bytes() {
        if b != b'%' {
            if t.get(at) != Some(&b) {
                return None;
            }
            at += 1;
        } else if let Some(s) = fixed.next() {
            if !t[at..].starts_with(s.as_bytes()) {
                return None;
            }
            at += s.len();
        } else {
            let start = at;
            while t.get(at).is_some_and(|&c| c != b'/') {
                at += 1;
            }
            name = start..at;
        }
    }
    if at != t.len() {
        return None;
    }
    t.get(name)
}

/// Result of writing a topic.
pub(crate) type Written = Result<(), Full>;

/// The topics the agent sends to (or subscribes to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Topic {
    /// `jobs/notify-next`.
    NotifyNext,
    /// `jobs/$next/get/accepted`.
    NextAccepted,
    /// `jobs/$next/get`.
    NextGet,
    /// `jobs/{job}/update`.
    JobUpdate,
    /// `streams/{stream}/data/cbor`.
    StreamData,
    /// `streams/{stream}/get/cbor`.
    StreamGet,
}

/// Write `$aws/things/{thing}/...` for `topic`; `name` is the job id or the
/// stream name where the topic has one.
pub(crate) fn write(w: &mut SliceWriter, topic: Topic, thing: &str, name: &str) -> Written {
    w.fill(template(topic), &[], &[PREFIX, thing, name])
}

/// `topic` as a [`SliceWriter::fill`] template: `%` stands for the prefix,
/// the thing name and the job id or stream name, in that order.
// Out of line: with constant topics inlined, LLVM specialises `name_in`
// and `SliceWriter::fill` once per topic (measured: 528 bytes more).
#[inline(never)]
fn template(topic: Topic) -> &'static str {
    match topic {
        Topic::NotifyNext => "%%/jobs/notify-next",
        Topic::NextAccepted => "%%/jobs/$next/get/accepted",
        Topic::NextGet => "%%/jobs/$next/get",
        Topic::JobUpdate => "%%/jobs/%/update",
        Topic::StreamData => "%%/streams/%/data/cbor",
        Topic::StreamGet => "%%/streams/%/get/cbor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(topic: Topic, name: &str) -> std::string::String {
        let mut buf = [0u8; 300];
        let mut w = SliceWriter::new(&mut buf);
        write(&mut w, topic, "t1", name).unwrap();
        let (done, _) = w.split();
        std::string::String::from_utf8(done.to_vec()).unwrap()
    }

    #[test]
    fn topic_table() {
        assert_eq!(
            render(Topic::NotifyNext, ""),
            "$aws/things/t1/jobs/notify-next"
        );
        assert_eq!(render(Topic::NextGet, ""), "$aws/things/t1/jobs/$next/get");
        assert_eq!(
            render(Topic::NextAccepted, ""),
            "$aws/things/t1/jobs/$next/get/accepted"
        );
        assert_eq!(
            render(Topic::JobUpdate, "j"),
            "$aws/things/t1/jobs/j/update"
        );
        assert_eq!(
            render(Topic::StreamData, "s"),
            "$aws/things/t1/streams/s/data/cbor"
        );
        assert_eq!(
            render(Topic::StreamGet, "s"),
            "$aws/things/t1/streams/s/get/cbor"
        );
    }

    #[test]
    fn classifies() {
        assert_eq!(
            classify("t1", b"$aws/things/t1/jobs/notify-next"),
            Incoming::NotifyNext
        );
        assert_eq!(
            classify("t1", b"$aws/things/t1/jobs/$next/get/accepted"),
            Incoming::NextAccepted
        );
        assert_eq!(
            classify("t1", b"$aws/things/t1/streams/S-1/data/cbor"),
            Incoming::StreamData(b"S-1")
        );
        for other in [
            "$aws/things/t2/jobs/notify-next",
            "$aws/things/t1x/jobs/notify-next",
            "$aws/things/t1/jobs/$next/get/rejected",
            "$aws/things/t1/streams/a/b/data/cbor",
            "$aws/things/t1/streams/S/data/json",
            "$aws/things/t1/jobs/j/update/accepted",
            "other/topic",
            "",
        ] {
            assert_eq!(classify("t1", other.as_bytes()), Incoming::Other, "{other}");
        }
    }

    /// `classify` as it was written before it shared `template` with `write`.
    fn reference<'t>(thing: &str, topic: &'t str) -> Incoming<'t> {
        let Some(rest) = topic
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix(thing))
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Incoming::Other;
        };
        match rest {
            "jobs/notify-next" => Incoming::NotifyNext,
            "jobs/$next/get/accepted" => Incoming::NextAccepted,
            _ => rest
                .strip_prefix("streams/")
                .and_then(|r| r.strip_suffix("/data/cbor"))
                .filter(|s| !s.contains('/'))
                .map_or(Incoming::Other, |s| Incoming::StreamData(s.as_bytes())),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn classifies_like_the_reference(
            parts in proptest::collection::vec(proptest::sample::select(&[
                "$aws/things/", "t1", "t", "/", "jobs", "/jobs/", "notify-next", "$next/get",
                "/accepted", "streams/", "/streams/", "S-1", "/data/cbor", "data", "cbor", "x",
                "%", "", "/jobs/notify-next", "/jobs/$next/get/accepted", "/streams/S-1/data/cbor",
            ][..]), 0..6),
            thing in proptest::sample::select(&["t1", "t", "", "t1/jobs", "%"][..]),
        ) {
            let topic: std::string::String = parts.concat();
            proptest::prop_assert_eq!(classify(thing, topic.as_bytes()), reference(thing, &topic));
        }

        #[test]
        fn written_topics_classify_back(name in "[^/]{0,12}", thing in "[a-zA-Z0-9:_-]{1,12}") {
            let mut buf = [0u8; 100];
            for (topic, incoming) in [
                (Topic::NotifyNext, Incoming::NotifyNext),
                (Topic::NextAccepted, Incoming::NextAccepted),
                (Topic::StreamData, Incoming::StreamData(name.as_bytes())),
                (Topic::NextGet, Incoming::Other),
                (Topic::StreamGet, Incoming::Other),
            ] {
                let mut w = SliceWriter::new(&mut buf);
                write(&mut w, topic, &thing, &name).unwrap();
                let (done, _) = w.split();
                proptest::prop_assert_eq!(classify(&thing, done), incoming);
            }
        }
    }
}
