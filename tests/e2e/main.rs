//! End-to-end tests: a real mosquitto broker, the `otactl` OTA service and
//! simulated devices over loopback. Every test asserts the job's final
//! status (and reason) in the service, the image the device boots (version,
//! confirmed or not) and the agent's statistics.

mod disruptions;
mod failures;
mod updates;
