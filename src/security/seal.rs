//! Sealed results (issue: results anyone can verify). Each office has an Ed25519 key pair; its
//! secret half is stored encrypted (ChaCha20-Poly1305, the office identifier as associated
//! data) with the portal's seal key from the settings, so a database copy alone cannot forge a
//! result. A result is sealed by signing a short statement that binds the file's SHA-256 to
//! its verification code, dossier and issue time; anyone can check it with the public key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use data_encoding::BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;

/// The portal's key for office keys at rest (32 bytes).
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the seal key must be 32 bytes, base64 or hex")]
    BadKey,
    #[error("an office key could not be opened with this seal key (wrong key or tampered row)")]
    CannotOpen,
}

impl SealKey {
    /// From base64 or hex text (the `PORTAL_SEAL_KEY` setting or the key file).
    pub fn parse(text: &str) -> Result<SealKey, SealError> {
        let t = text.trim();
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(t.as_bytes())
            .ok()
            .filter(|b| b.len() == 32)
            .or_else(|| BASE64.decode(t.as_bytes()).ok())
            .ok_or(SealError::BadKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(SealKey(arr))
    }

    pub fn generate() -> SealKey {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        SealKey(k)
    }

    pub fn to_text(&self) -> String {
        BASE64.encode(&self.0)
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
    }
}

/// A new key pair for an office: (public key, sealed secret), both as text for the database.
pub fn new_office_key(seal: &SealKey, office_id: &str) -> (String, String) {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let signing = SigningKey::from_bytes(&secret);
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = seal
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &secret,
                aad: office_id.as_bytes(),
            },
        )
        .unwrap_or_default();
    let mut stored = nonce.to_vec();
    stored.extend_from_slice(&sealed);
    (
        BASE64.encode(signing.verifying_key().as_bytes()),
        BASE64.encode(&stored),
    )
}

/// Seals a short secret for the database (a webhook's signing secret), bound to `context`: the
/// row cannot be moved to another context, nor read without the seal key.
pub fn seal_secret(seal: &SealKey, context: &str, secret: &str) -> String {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = seal
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret.as_bytes(),
                aad: context.as_bytes(),
            },
        )
        .unwrap_or_default();
    let mut stored = nonce.to_vec();
    stored.extend_from_slice(&sealed);
    BASE64.encode(&stored)
}

/// The secret `seal_secret` sealed for `context`.
pub fn open_secret(seal: &SealKey, context: &str, sealed: &str) -> Result<String, SealError> {
    let raw = BASE64
        .decode(sealed.as_bytes())
        .map_err(|_| SealError::CannotOpen)?;
    if raw.len() < 12 {
        return Err(SealError::CannotOpen);
    }
    let (nonce, body) = raw.split_at(12);
    let plain = seal
        .cipher()
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| SealError::CannotOpen)?;
    String::from_utf8(plain).map_err(|_| SealError::CannotOpen)
}

fn open(seal: &SealKey, office_id: &str, sealed: &str) -> Result<SigningKey, SealError> {
    let raw = BASE64
        .decode(sealed.as_bytes())
        .map_err(|_| SealError::CannotOpen)?;
    if raw.len() < 12 {
        return Err(SealError::CannotOpen);
    }
    let (nonce, body) = raw.split_at(12);
    let secret = seal
        .cipher()
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: office_id.as_bytes(),
            },
        )
        .map_err(|_| SealError::CannotOpen)?;
    let arr: [u8; 32] = secret.try_into().map_err(|_| SealError::CannotOpen)?;
    Ok(SigningKey::from_bytes(&arr))
}

/// What a seal states: this file (by digest) is the result with this code, of this dossier,
/// issued then. Every field is in the signed text, so none can be swapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub verify_code: &'a str,
    pub dossier_code: &'a str,
    pub sha256_hex: &'a str,
    /// Unix seconds, UTC.
    pub issued_at: i64,
}

impl Statement<'_> {
    fn text(&self) -> String {
        format!(
            "portal-result-v1|{}|{}|{}|{}",
            self.verify_code, self.dossier_code, self.sha256_hex, self.issued_at
        )
    }
}

/// Signs a statement with the office's sealed key: the signature as base64.
pub fn sign(
    seal: &SealKey,
    office_id: &str,
    sealed_secret: &str,
    s: &Statement,
) -> Result<String, SealError> {
    let key = open(seal, office_id, sealed_secret)?;
    Ok(BASE64.encode(&key.sign(s.text().as_bytes()).to_bytes()))
}

/// Whether `signature` (base64) is the office's (public key, base64) over the statement.
pub fn verify(public_key: &str, signature: &str, s: &Statement) -> bool {
    let Ok(pk) = BASE64.decode(public_key.as_bytes()) else {
        return false;
    };
    let Ok(pk) = <[u8; 32]>::try_from(pk.as_slice()) else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    let Ok(sig) = BASE64.decode(signature.as_bytes()) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(sig.as_slice()) else {
        return false;
    };
    vk.verify(s.text().as_bytes(), &Signature::from_bytes(&sig))
        .is_ok()
}

/// A short code for people to type: 10 characters of an alphabet without look-alikes
/// (no 0/O, 1/I/L), shown as two groups of five.
pub fn new_verify_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut raw = [0u8; 10];
    rand::rng().fill_bytes(&mut raw);
    let chars: String = raw
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// A typed code in its stored form (upper case, the dash where it belongs), or None.
pub fn normalise_verify_code(raw: &str) -> Option<String> {
    let c: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == 10).then(|| format!("{}-{}", &c[..5], &c[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sha: &str) -> Statement<'_> {
        Statement {
            verify_code: "ABCDE-FGHJK",
            dossier_code: "00004.00.00.H01-261130-0001",
            sha256_hex: sha,
            issued_at: 1_764_500_000,
        }
    }

    #[test]
    fn a_seal_verifies_and_any_change_fails() {
        let seal = SealKey::generate();
        let (public, sealed) = new_office_key(&seal, "00004.00.00.H01");
        let sha = "a".repeat(64);
        let sig = sign(&seal, "00004.00.00.H01", &sealed, &statement(&sha)).expect("sign");
        assert!(verify(&public, &sig, &statement(&sha)));
        // Another digest (a changed file), another code, dossier or time: refused.
        let other = format!("b{}", &sha[1..]);
        assert!(!verify(&public, &sig, &statement(&other)));
        let mut s = statement(&sha);
        s.issued_at += 1;
        assert!(!verify(&public, &sig, &s));
        let mut s = statement(&sha);
        s.dossier_code = "00004.00.00.H01-261130-0002";
        assert!(!verify(&public, &sig, &s));
        // Another office's key does not verify it.
        let (other_public, _) = new_office_key(&seal, "00005.00.00.H01");
        assert!(!verify(&other_public, &sig, &statement(&sha)));
        assert!(!verify("junk", &sig, &statement(&sha)));
        assert!(!verify(&public, "junk", &statement(&sha)));
    }

    #[test]
    fn the_secret_opens_only_with_the_seal_key_and_its_office() {
        let seal = SealKey::generate();
        let (_, sealed) = new_office_key(&seal, "00004.00.00.H01");
        let s = statement("c");
        assert_eq!(
            sign(&SealKey::generate(), "00004.00.00.H01", &sealed, &s),
            Err(SealError::CannotOpen)
        );
        // A row copied to another office cannot be used there.
        assert_eq!(
            sign(&seal, "00005.00.00.H01", &sealed, &s),
            Err(SealError::CannotOpen)
        );
        assert!(!sealed.contains(&seal.to_text()));
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let seal = SealKey::generate();
        let sealed = seal_secret(&seal, "webhook:7", "s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(
            open_secret(&seal, "webhook:7", &sealed).as_deref(),
            Ok("s3cret")
        );
        assert_eq!(
            open_secret(&seal, "webhook:8", &sealed),
            Err(SealError::CannotOpen)
        );
        assert_eq!(
            open_secret(&SealKey::generate(), "webhook:7", &sealed),
            Err(SealError::CannotOpen)
        );
    }

    #[test]
    fn seal_keys_parse_from_base64_or_hex_and_nothing_else() {
        let k = SealKey::generate();
        assert_eq!(SealKey::parse(&k.to_text()).expect("b64").0, k.0);
        let hex = data_encoding::HEXLOWER.encode(&k.0);
        assert_eq!(SealKey::parse(&hex).expect("hex").0, k.0);
        assert_eq!(SealKey::parse("short").err(), Some(SealError::BadKey));
        assert_eq!(SealKey::parse("").err(), Some(SealError::BadKey));
    }

    #[test]
    fn verify_codes_are_readable_and_normalise() {
        let c = new_verify_code();
        assert_eq!(c.len(), 11);
        assert!(!c.contains(['0', 'O', '1', 'I', 'L']));
        assert_eq!(
            normalise_verify_code(&c.to_lowercase().replace('-', " ")),
            Some(c)
        );
        assert_eq!(normalise_verify_code("abc"), None);
    }
}
