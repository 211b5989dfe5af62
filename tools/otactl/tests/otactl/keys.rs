//! Keys: what `otactl keygen` writes, and the key files otactl reads.

use ota_agent::P256Verifier;

use crate::common::{from_hex, Scratch};

/// The SEC1 public key of a private key file, as openssl derives it (the last
/// 65 bytes of the SubjectPublicKeyInfo DER).
fn openssl_sec1(s: &Scratch, key: &str) -> Vec<u8> {
    let der = s.openssl_ok(&["pkey", "-in", key, "-pubout", "-outform", "DER"]);
    der[der.len() - 65..].to_vec()
}

/// The SEC1 public key of a private key file, as otactl prints it.
fn otactl_sec1(s: &Scratch, key: &str) -> Vec<u8> {
    from_hex(&s.otactl_ok(&["pubkey", "--key", key, "--format", "hex"]))
}

#[test]
fn keygen_writes_a_pkcs8_key_pair_that_openssl_reads() {
    let s = Scratch::new();
    let printed = s.otactl_ok(&["keygen", "--out", "k.pem", "--public", "p.pem"]);
    let private = String::from_utf8(s.read("k.pem")).unwrap();
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{private}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.path("k.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private key readable by others: {mode:o}");
    }

    // openssl derives the same public key PEM from the private key.
    let from_private = s.openssl_ok(&["pkey", "-in", "k.pem", "-pubout"]);
    assert_eq!(from_private, s.read("p.pem"));
    s.openssl_ok(&["pkey", "-pubin", "-in", "p.pem", "-noout"]);

    // The printed SEC1 key is the openssl one, and the device accepts it.
    let sec1 = openssl_sec1(&s, "k.pem");
    let hex_line = printed.lines().nth(1).unwrap();
    assert_eq!(from_hex(hex_line), sec1);
    assert!(P256Verifier::from_sec1(&sec1).is_some());
    assert!(printed.contains("const uint8_t OTA_SIGNING_PUBLIC_KEY[65] = {"));
    assert!(printed.contains("pub const OTA_SIGNING_PUBLIC_KEY: [u8; 65] = ["));
}

#[test]
fn keygen_does_not_replace_a_key_without_force() {
    let s = Scratch::new();
    s.otactl_ok(&["keygen", "--out", "k.pem"]);
    let first = s.read("k.pem");
    let err = s.otactl_fails(&["keygen", "--out", "k.pem"], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(s.read("k.pem"), first);
    s.otactl_ok(&["keygen", "--out", "k.pem", "--force"]);
    assert_ne!(s.read("k.pem"), first);
}

#[test]
fn openssl_keys_are_accepted_in_sec1_and_pkcs8() {
    let s = Scratch::new();
    // SEC1 with the EC PARAMETERS block `ecparam -genkey` writes by default.
    s.openssl_ok(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-out",
        "params.pem",
    ]);
    assert!(String::from_utf8(s.read("params.pem"))
        .unwrap()
        .starts_with("-----BEGIN EC PARAMETERS-----"));
    // SEC1 alone.
    s.openssl_ok(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "sec1.pem",
    ]);
    // PKCS#8.
    s.openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "p8.pem",
    ]);
    assert!(String::from_utf8(s.read("p8.pem"))
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    for key in ["params.pem", "sec1.pem", "p8.pem"] {
        assert_eq!(otactl_sec1(&s, key), openssl_sec1(&s, key), "{key}");
        let pem = s.otactl_ok(&["pubkey", "--key", key, "--format", "pem"]);
        let from_openssl = s.openssl_ok(&["pkey", "-in", key, "-pubout"]);
        assert_eq!(pem.as_bytes(), from_openssl, "{key}");
    }
}

#[test]
fn keys_otactl_cannot_use_are_refused_with_a_reason() {
    let s = Scratch::new();
    s.openssl_ok(&[
        "ecparam",
        "-name",
        "secp384r1",
        "-genkey",
        "-noout",
        "-out",
        "p384.pem",
    ]);
    s.openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-aes256",
        "-pass",
        "pass:secret",
        "-out",
        "encrypted.pem",
    ]);
    s.otactl_ok(&["keygen", "--out", "k.pem", "--public", "public.pem"]);
    s.write("garbage.pem", b"not a key\n");
    let cases = [
        ("p384.pem", "not a P-256"),
        ("encrypted.pem", "encrypted"),
        ("public.pem", "no \"PRIVATE KEY\""),
        ("garbage.pem", "no \"PRIVATE KEY\""),
        ("missing.pem", "cannot read the key file missing.pem"),
    ];
    for (key, reason) in cases {
        let err = s.otactl_fails(&["pubkey", "--key", key], 1);
        assert!(err.contains(reason), "{key}: {err}");
    }
}

#[test]
fn c_and_rust_arrays_hold_the_sec1_key() {
    let s = Scratch::new();
    s.otactl_ok(&["keygen", "--out", "k.pem"]);
    let sec1 = otactl_sec1(&s, "k.pem");
    for (format, head) in [
        ("c", "const uint8_t SIGNER[65] = {"),
        ("rust", "pub const SIGNER: [u8; 65] = ["),
    ] {
        let text = s.otactl_ok(&[
            "pubkey", "--key", "k.pem", "--format", format, "--name", "SIGNER",
        ]);
        assert!(text.starts_with(head), "{text}");
        let bytes: Vec<u8> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter_map(|t| t.strip_prefix("0x"))
            .map(|t| u8::from_str_radix(t, 16).unwrap())
            .collect();
        assert_eq!(bytes, sec1, "{format}");
    }
}
