//! The default [`SignatureVerifier`]: ECDSA P-256 (the `sig-sha256-ecdsa`
//! scheme of AWS code signing) with the p256 crate, behind the
//! `p256-verifier` feature.

use crate::platform::{SignatureError, SignatureVerifier};
use p256::ecdsa::{signature::hazmat::PrehashVerifier, Signature, VerifyingKey};

/// The default verifier: ECDSA P-256 over the file's SHA-256, with the public
/// key given as SEC1 bytes (65-byte uncompressed `04 x y` or 33-byte compressed).
#[derive(Clone, Debug)]
pub struct P256Verifier {
    key: VerifyingKey,
}

impl P256Verifier {
    /// A verifier for this SEC1-encoded public key, or `None` if it is not a
    /// point on P-256.
    pub fn from_sec1(public_key: &[u8]) -> Option<Self> {
        VerifyingKey::from_sec1_bytes(public_key)
            .ok()
            .map(|key| P256Verifier { key })
    }
}

impl SignatureVerifier for P256Verifier {
    fn verify(&mut self, digest: &[u8; 32], signature: &[u8]) -> Result<(), SignatureError> {
        let sig = Signature::from_der(signature).map_err(|_| SignatureError::Malformed)?;
        self.key
            .verify_prehash(digest, &sig)
            .map_err(|_| SignatureError::Mismatch)
    }
}
