//! Code signatures as AWS IoT code signing makes them for OTA jobs: ECDSA
//! P-256 over the SHA-256 of the whole file, ASN.1 DER encoded, then standard
//! base64 in the job document's `sig-sha256-ecdsa` value (PROTOCOL.md §9).

use base64::{engine::general_purpose::STANDARD, Engine as _};
use p256::ecdsa::{signature::Signer as _, DerSignature, SigningKey};

/// The job document key that carries the signature.
pub const SIGNATURE_KEY: &str = "sig-sha256-ecdsa";

/// The DER ECDSA signature (70 to 72 bytes) of `data`'s SHA-256.
pub fn signature_der(key: &SigningKey, data: &[u8]) -> DerSignature {
    key.sign(data)
}

/// The `sig-sha256-ecdsa` value for `data`: standard base64 of [`signature_der`].
pub fn signature_base64(key: &SigningKey, data: &[u8]) -> String {
    STANDARD.encode(signature_der(key, data).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota_agent::{P256Verifier, SignatureVerifier as _};
    use sha2::{Digest as _, Sha256};

    #[test]
    fn the_device_verifier_accepts_the_signature_and_only_for_that_file() {
        let key = SigningKey::from_slice(&[3u8; 32]).unwrap();
        let data = b"firmware image bytes";
        let der = STANDARD.decode(signature_base64(&key, data)).unwrap();
        assert!((70..=72).contains(&der.len()));
        assert_eq!(der[0], 0x30);

        let public = key.verifying_key().to_sec1_point(false);
        let mut verifier = P256Verifier::from_sec1(public.as_bytes()).unwrap();
        let digest: [u8; 32] = Sha256::digest(data).into();
        assert_eq!(verifier.verify(&digest, &der), Ok(()));
        let other: [u8; 32] = Sha256::digest(b"firmware image bytez").into();
        assert!(verifier.verify(&other, &der).is_err());
    }
}
