//! Sealing sensitive values with AES-256-GCM. A sealed value is written as
//! `enc:v1:<base64 of nonce and ciphertext>`; each has its own random 96-bit nonce.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;

use crate::StateError;

const PREFIX: &str = "enc:v1:";
/// What the key check seals, so a wrong key is caught before anything else is read.
const CHECK: &[u8] = b"omniform state key check";

/// A 256-bit key and where it came from (for messages).
#[derive(Clone)]
pub struct Cipher {
    cipher: Aes256Gcm,
    source: String,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> Result<[u8; N], StateError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| StateError::BadKey(format!("the system has no randomness: {e}")))?;
    Ok(b)
}

impl Cipher {
    /// A key written as 64 hex digits or as base64 of 32 bytes (`openssl rand -hex 32`).
    pub fn from_text(text: &str, source: &str) -> Result<Self, StateError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|e| StateError::BadKey(e.to_string()))?
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| {
                StateError::BadKey(format!(
                    "{source} must be 32 bytes as 64 hex digits or base64; make one with `openssl rand -hex 32`"
                ))
            })?
        };
        if bytes.len() != 32 {
            return Err(StateError::BadKey(format!(
                "{source} holds {} bytes, but a key is 32 bytes; make one with `openssl rand -hex 32`",
                bytes.len()
            )));
        }
        Ok(Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
            source: source.to_string(),
        })
    }

    /// A new random key and its text form.
    pub fn generate(source: &str) -> Result<(Self, String), StateError> {
        let text = hex::encode(random::<32>()?);
        Ok((Self::from_text(&text, source)?, text))
    }

    /// Where the key came from, for messages.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<String, StateError> {
        let nonce = random::<12>()?;
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| StateError::BadKey("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, StateError> {
        let wrong = || StateError::WrongKey {
            source_of_key: self.source.clone(),
        };
        let body = sealed.strip_prefix(PREFIX).ok_or_else(wrong)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| wrong())?;
        if bytes.len() < 12 {
            return Err(wrong());
        }
        let (nonce, ct) = bytes.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| wrong())
    }

    /// A sealed constant stored in every file, to tell a wrong key at once.
    pub fn key_check(&self) -> Result<String, StateError> {
        self.seal(CHECK)
    }

    pub fn verify(&self, key_check: &str) -> Result<(), StateError> {
        match self.open(key_check) {
            Ok(plain) if plain == CHECK => Ok(()),
            _ => Err(StateError::WrongKey {
                source_of_key: self.source.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_another_key() {
        let (a, _) = Cipher::generate("a").unwrap();
        let (b, _) = Cipher::generate("b").unwrap();
        let sealed = a.seal(b"hunter2").unwrap();
        assert!(!sealed.contains("hunter2"));
        assert_eq!(a.open(&sealed).unwrap(), b"hunter2");
        assert!(matches!(b.open(&sealed), Err(StateError::WrongKey { .. })));
        assert_ne!(
            a.seal(b"x").unwrap(),
            a.seal(b"x").unwrap(),
            "nonces must differ"
        );
        a.verify(&a.key_check().unwrap()).unwrap();
        assert!(b.verify(&a.key_check().unwrap()).is_err());
    }

    #[test]
    fn reads_hex_and_base64_keys() {
        let hex_key = "00".repeat(32);
        Cipher::from_text(&hex_key, "env").unwrap();
        Cipher::from_text(
            &base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
            "env",
        )
        .unwrap();
        let err = Cipher::from_text("short", "OMNIFORM_STATE_KEY")
            .unwrap_err()
            .to_string();
        assert!(err.contains("openssl rand -hex 32"), "{err}");
    }
}
