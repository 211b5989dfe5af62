//! Scenario tests of the agent against PROTOCOL.md: the observable sequences,
//! every [C quirk] the other way round, the state transitions, and the
//! properties no input may break.

mod harness;

mod download_mqtt;
mod http;
mod integrity;
mod jobs;
mod properties;
mod resume;
mod self_test;
mod transitions;
