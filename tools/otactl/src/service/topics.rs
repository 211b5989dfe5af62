//! The AWS IoT reserved topics of Jobs and MQTT-based file delivery, as seen
//! from the service: which requests it subscribes to and where it replies
//! (PROTOCOL.md §2).

/// The topic filters the service subscribes to, for every thing. `+` matches
/// `$next` too, so the first filter covers DescribeJobExecution for `$next`
/// and for a job id.
pub(crate) const REQUEST_FILTERS: [&str; 3] = [
    "$aws/things/+/jobs/+/get",
    "$aws/things/+/jobs/+/update",
    "$aws/things/+/streams/+/get/cbor",
];

/// A device request, parsed from the topic it arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request<'a> {
    /// DescribeJobExecution (`jobs/{jobId}/get`, `jobId` may be `$next`).
    JobGet { thing: &'a str, job_id: &'a str },
    /// UpdateJobExecution (`jobs/{jobId}/update`).
    JobUpdate { thing: &'a str, job_id: &'a str },
    /// GetStream in CBOR (`streams/{streamId}/get/cbor`).
    StreamGet { thing: &'a str, stream_id: &'a str },
}

/// Parses a request topic; `None` for anything else.
pub(crate) fn parse(topic: &str) -> Option<Request<'_>> {
    let rest = topic.strip_prefix("$aws/things/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let request = match parts.as_slice() {
        [thing, "jobs", job_id, "get"] => Request::JobGet { thing, job_id },
        [thing, "jobs", job_id, "update"] => Request::JobUpdate { thing, job_id },
        [thing, "streams", stream_id, "get", "cbor"] => Request::StreamGet { thing, stream_id },
        _ => return None,
    };
    let (thing, name) = match request {
        Request::JobGet { thing, job_id } | Request::JobUpdate { thing, job_id } => (thing, job_id),
        Request::StreamGet { thing, stream_id } => (thing, stream_id),
    };
    (!thing.is_empty() && !name.is_empty()).then_some(request)
}

/// `$aws/things/{thing}/jobs/{job_id}/{operation}/accepted` or `/rejected`.
pub(crate) fn job_reply(thing: &str, job_id: &str, operation: &str, accepted: bool) -> String {
    let outcome = if accepted { "accepted" } else { "rejected" };
    format!("$aws/things/{thing}/jobs/{job_id}/{operation}/{outcome}")
}

/// `$aws/things/{thing}/jobs/notify-next`.
pub(crate) fn notify_next(thing: &str) -> String {
    format!("$aws/things/{thing}/jobs/notify-next")
}

/// `$aws/things/{thing}/streams/{stream_id}/data/cbor`.
pub(crate) fn stream_data(thing: &str, stream_id: &str) -> String {
    format!("$aws/things/{thing}/streams/{stream_id}/data/cbor")
}

/// `$aws/things/{thing}/streams/{stream_id}/rejected/cbor`.
pub(crate) fn stream_rejected(thing: &str, stream_id: &str) -> String {
    format!("$aws/things/{thing}/streams/{stream_id}/rejected/cbor")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_parsed() {
        assert_eq!(
            parse("$aws/things/t1/jobs/$next/get"),
            Some(Request::JobGet {
                thing: "t1",
                job_id: "$next"
            })
        );
        assert_eq!(
            parse("$aws/things/t1/jobs/j-1/update"),
            Some(Request::JobUpdate {
                thing: "t1",
                job_id: "j-1"
            })
        );
        assert_eq!(
            parse("$aws/things/t1/streams/S/get/cbor"),
            Some(Request::StreamGet {
                thing: "t1",
                stream_id: "S"
            })
        );
        assert_eq!(parse("$aws/things/t1/jobs/$next/get/accepted"), None);
        assert_eq!(parse("$aws/things//jobs/j/get"), None);
        assert_eq!(parse("$aws/things/t1/streams/S/get/json"), None);
        assert_eq!(parse("other/topic"), None);
    }

    #[test]
    fn reply_topics() {
        assert_eq!(
            job_reply("t", "$next", "get", true),
            "$aws/things/t/jobs/$next/get/accepted"
        );
        assert_eq!(
            job_reply("t", "j", "update", false),
            "$aws/things/t/jobs/j/update/rejected"
        );
        assert_eq!(notify_next("t"), "$aws/things/t/jobs/notify-next");
        assert_eq!(stream_data("t", "S"), "$aws/things/t/streams/S/data/cbor");
        assert_eq!(
            stream_rejected("t", "S"),
            "$aws/things/t/streams/S/rejected/cbor"
        );
    }
}
