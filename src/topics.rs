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
    StreamData(&'t str),
    /// Anything else.
    Other,
}

/// Classify `topic` for the device `thing`.
pub(crate) fn classify<'t>(thing: &str, topic: &'t str) -> Incoming<'t> {
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
            .map_or(Incoming::Other, Incoming::StreamData),
    }
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
    let parts: [&str; 3] = match topic {
        Topic::NotifyNext => ["/jobs/notify-next", "", ""],
        Topic::NextAccepted => ["/jobs/$next/get/accepted", "", ""],
        Topic::NextGet => ["/jobs/$next/get", "", ""],
        Topic::JobUpdate => ["/jobs/", name, "/update"],
        Topic::StreamData => ["/streams/", name, "/data/cbor"],
        Topic::StreamGet => ["/streams/", name, "/get/cbor"],
    };
    w.str(PREFIX)?.str(thing)?;
    for p in parts {
        w.str(p)?;
    }
    Ok(())
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
            classify("t1", "$aws/things/t1/jobs/notify-next"),
            Incoming::NotifyNext
        );
        assert_eq!(
            classify("t1", "$aws/things/t1/jobs/$next/get/accepted"),
            Incoming::NextAccepted
        );
        assert_eq!(
            classify("t1", "$aws/things/t1/streams/S-1/data/cbor"),
            Incoming::StreamData("S-1")
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
            assert_eq!(classify("t1", other), Incoming::Other, "{other}");
        }
    }
}
