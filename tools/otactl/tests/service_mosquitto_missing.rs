//! Without mosquitto, the helper fails with installation advice instead of
//! skipping. (Its own test binary: it changes the environment.)

use otactl::testing::Mosquitto;

#[test]
fn a_missing_mosquitto_is_a_clear_error() {
    std::env::set_var("MOSQUITTO", "/nonexistent/mosquitto");
    let error = format!(
        "{:#}",
        Mosquitto::start()
            .err()
            .expect("no broker without mosquitto")
    );
    assert!(error.contains("apt-get install -y mosquitto"), "{error}");
}
