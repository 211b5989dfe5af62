//! Signatures: `otactl sign` output against openssl and the device verifier.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use ota_agent::{P256Verifier, SignatureVerifier as _};
use sha2::{Digest as _, Sha256};

use crate::common::{from_hex, payload, Scratch};

fn openssl_verifies(s: &Scratch, public: &str, signature: &str, file: &str) -> bool {
    let out = s.openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        public,
        "-signature",
        signature,
        file,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.success(),
        stdout.contains("Verified OK"),
        "{stdout}"
    );
    out.status.success()
}

#[test]
fn openssl_accepts_the_signature_and_refuses_it_for_a_changed_file() {
    let s = Scratch::new();
    s.otactl_ok(&["keygen", "--out", "k.pem", "--public", "p.pem"]);
    s.write("fw.bin", &payload(10_000));
    let b64 = s.otactl_ok(&["sign", "--key", "k.pem", "--der", "raw.der", "fw.bin"]);
    let der = STANDARD.decode(b64.trim()).expect("standard base64");
    assert_eq!(der, s.read("raw.der"));
    assert!(
        (70..=72).contains(&der.len()) && der[0] == 0x30,
        "not DER ECDSA: {der:02x?}"
    );
    s.write("sig.der", &der);
    assert!(openssl_verifies(&s, "p.pem", "sig.der", "fw.bin"));

    let mut changed = payload(10_000);
    changed[5000] ^= 0x80;
    s.write("fw.bin", &changed);
    assert!(!openssl_verifies(&s, "p.pem", "sig.der", "fw.bin"));
}

#[test]
fn an_openssl_sec1_key_signs_what_openssl_verifies() {
    let s = Scratch::new();
    s.openssl_ok(&["ecparam", "-name", "prime256v1", "-genkey", "-out", "k.pem"]);
    s.openssl_ok(&["ec", "-in", "k.pem", "-pubout", "-out", "p.pem"]);
    s.write("fw.bin", b"firmware");
    let b64 = s.otactl_ok(&["sign", "--key", "k.pem", "fw.bin"]);
    s.write("sig.der", &STANDARD.decode(b64.trim()).unwrap());
    assert!(openssl_verifies(&s, "p.pem", "sig.der", "fw.bin"));
}

#[test]
fn the_device_verifier_accepts_the_signature() {
    let s = Scratch::new();
    s.otactl_ok(&["keygen", "--out", "k.pem"]);
    let data = payload(3000);
    s.write("fw.bin", &data);
    let der = STANDARD
        .decode(s.otactl_ok(&["sign", "--key", "k.pem", "fw.bin"]).trim())
        .unwrap();
    let sec1 = from_hex(&s.otactl_ok(&["pubkey", "--key", "k.pem", "--format", "hex"]));
    let mut verifier = P256Verifier::from_sec1(&sec1).expect("a P-256 point");
    let digest: [u8; 32] = Sha256::digest(&data).into();
    assert_eq!(verifier.verify(&digest, &der), Ok(()));
    let wrong: [u8; 32] = Sha256::digest(&data[1..]).into();
    assert!(verifier.verify(&wrong, &der).is_err());
}
