//! MQTT topics of the Jobs and stream APIs (PROTOCOL.md §2.1).

use crate::writer::SliceWriter;
use core::fmt::{self, Write};

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

/// `$aws/things/{thing}/jobs/notify-next`.
pub(crate) fn notify_next(w: &mut SliceWriter, thing: &str) -> fmt::Result {
    write!(w, "{PREFIX}{thing}/jobs/notify-next")
}

/// `$aws/things/{thing}/jobs/$next/get`.
pub(crate) fn next_get(w: &mut SliceWriter, thing: &str) -> fmt::Result {
    write!(w, "{PREFIX}{thing}/jobs/$next/get")
}

/// `$aws/things/{thing}/jobs/$next/get/accepted`.
pub(crate) fn next_accepted(w: &mut SliceWriter, thing: &str) -> fmt::Result {
    write!(w, "{PREFIX}{thing}/jobs/$next/get/accepted")
}

/// `$aws/things/{thing}/jobs/{job}/update`.
pub(crate) fn job_update(w: &mut SliceWriter, thing: &str, job: &str) -> fmt::Result {
    write!(w, "{PREFIX}{thing}/jobs/{job}/update")
}

/// `$aws/things/{thing}/streams/{stream}/data/cbor`.
pub(crate) fn stream_data(w: &mut SliceWriter, thing: &str, stream: &str) -> fmt::Result {
    write!(w, "{PREFIX}{thing}/streams/{stream}/data/cbor")
}

/// `$aws/things/{thing}/streams/{stream}/get/cbor`.
pub(crate) fn stream_get(w: &mut SliceWriter, thing: &str, stream: &str) -> fmt::Result {
    write!(w, "{PREFIX}{thing}/streams/{stream}/get/cbor")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(f: impl FnOnce(&mut SliceWriter) -> fmt::Result) -> std::string::String {
        let mut buf = [0u8; 300];
        let mut w = SliceWriter::new(&mut buf);
        f(&mut w).unwrap();
        let (done, _) = w.split();
        std::string::String::from_utf8(done.to_vec()).unwrap()
    }

    #[test]
    fn topic_table() {
        assert_eq!(
            render(|w| notify_next(w, "t1")),
            "$aws/things/t1/jobs/notify-next"
        );
        assert_eq!(
            render(|w| next_get(w, "t1")),
            "$aws/things/t1/jobs/$next/get"
        );
        assert_eq!(
            render(|w| next_accepted(w, "t1")),
            "$aws/things/t1/jobs/$next/get/accepted"
        );
        assert_eq!(
            render(|w| job_update(w, "t1", "j")),
            "$aws/things/t1/jobs/j/update"
        );
        assert_eq!(
            render(|w| stream_data(w, "t1", "s")),
            "$aws/things/t1/streams/s/data/cbor"
        );
        assert_eq!(
            render(|w| stream_get(w, "t1", "s")),
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
