//! MQTT topic filter matching (MQTT 3.1.1 §4.7), including the rule that a
//! filter starting with a wildcard does not match topics starting with `$`.

/// Whether `filter` is a valid subscription filter.
pub(crate) fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, level)| match *level {
        "#" => i == levels.len() - 1,
        "+" => true,
        other => !other.contains('#') && !other.contains('+'),
    })
}

/// Whether a publish on `topic` is delivered to a subscription to `filter`.
pub(crate) fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match (level, topic_levels.next()) {
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (l, Some(t)) if l == t => {}
            _ => return false,
        }
    }
    topic_levels.next().is_none()
}

/// Whether `topic` may be published to (no wildcards, not empty).
pub(crate) fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_topics_match() {
        assert!(matches(
            "$aws/things/+/jobs/+/get",
            "$aws/things/t1/jobs/$next/get"
        ));
        assert!(!matches(
            "$aws/things/+/jobs/+/get",
            "$aws/things/t1/jobs/$next/get/accepted"
        ));
        assert!(matches(
            "$aws/things/t1/streams/#",
            "$aws/things/t1/streams/S/data/cbor"
        ));
        assert!(matches(
            "$aws/things/t1/jobs/notify-next",
            "$aws/things/t1/jobs/notify-next"
        ));
        assert!(!matches("#", "$aws/things/t1/jobs/notify-next"));
        assert!(!matches(
            "+/things/t1/jobs/notify-next",
            "$aws/things/t1/jobs/notify-next"
        ));
        assert!(matches("#", "a/b"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/+", "a/"));
        assert!(!matches("a/+", "a"));
        assert!(!matches("a/b", "a/b/c"));
    }

    #[test]
    fn filters_and_topics_are_validated() {
        assert!(valid_filter("$aws/things/+/jobs/#"));
        assert!(!valid_filter("a/#/b"));
        assert!(!valid_filter("a/b#"));
        assert!(!valid_filter("a+/b"));
        assert!(!valid_filter(""));
        assert!(valid_topic("$aws/things/t/jobs/$next/get"));
        assert!(!valid_topic("a/+"));
    }
}
