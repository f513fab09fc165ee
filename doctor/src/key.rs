//! A TSIG key as Cloudflare holds it, read for what a primary will make of
//! it (check I4), and turned into keys that sign what Cloudflare sends.
//!
//! Nothing here ever prints the secret: only its form and length.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use cloudflare_secondary_dns::types::Tsig;
use domain::tsig::{Algorithm, Key, KeyName};

/// The TSIG algorithms a Cloudflare key may name (RFC 8945 §6), whether or
/// not the doctor can sign with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// `hmac-md5.sig-alg.reg.int.`: obsolete; nothing here can sign it.
    HmacMd5,
    /// `hmac-sha1`
    HmacSha1,
    /// `hmac-sha224`: valid, but the DNS crate cannot sign it.
    HmacSha224,
    /// `hmac-sha256`
    HmacSha256,
    /// `hmac-sha384`
    HmacSha384,
    /// `hmac-sha512`
    HmacSha512,
}

impl KeyAlgorithm {
    /// Reads Cloudflare's `algo` as a primary would: case-insensitive, with
    /// or without the trailing dot (`hmac-sha512.`), `hmac-md5` with or
    /// without `.sig-alg.reg.int`.
    pub fn parse(algo: &str) -> Option<KeyAlgorithm> {
        let lower = algo.trim().to_ascii_lowercase();
        let name = lower.strip_suffix('.').unwrap_or(&lower);
        Some(match name {
            "hmac-md5" | "hmac-md5.sig-alg.reg.int" => KeyAlgorithm::HmacMd5,
            "hmac-sha1" => KeyAlgorithm::HmacSha1,
            "hmac-sha224" => KeyAlgorithm::HmacSha224,
            "hmac-sha256" => KeyAlgorithm::HmacSha256,
            "hmac-sha384" => KeyAlgorithm::HmacSha384,
            "hmac-sha512" => KeyAlgorithm::HmacSha512,
            _ => return None,
        })
    }

    /// The name as BIND writes it (`hmac-sha512`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::HmacMd5 => "hmac-md5",
            KeyAlgorithm::HmacSha1 => "hmac-sha1",
            KeyAlgorithm::HmacSha224 => "hmac-sha224",
            KeyAlgorithm::HmacSha256 => "hmac-sha256",
            KeyAlgorithm::HmacSha384 => "hmac-sha384",
            KeyAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    fn signer(self) -> Option<Algorithm> {
        match self {
            KeyAlgorithm::HmacSha1 => Some(Algorithm::Sha1),
            KeyAlgorithm::HmacSha256 => Some(Algorithm::Sha256),
            KeyAlgorithm::HmacSha384 => Some(Algorithm::Sha384),
            KeyAlgorithm::HmacSha512 => Some(Algorithm::Sha512),
            KeyAlgorithm::HmacMd5 | KeyAlgorithm::HmacSha224 => None,
        }
    }
}

/// How a secret's text decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoding {
    /// Base64, as BIND, NSD, Knot and `dig -y` write secrets.
    Base64,
    /// Hexadecimal digits, as Cloudflare's own API example shows one.
    Hex,
}

impl fmt::Display for Decoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decoding::Base64 => "base64",
            Decoding::Hex => "hex",
        })
    }
}

/// What a secret's text looks like, never what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretForm {
    /// Base64 of this many bytes (and not all hex digits).
    Base64 { bytes: usize },
    /// All hex digits, of this many bytes; it may also read as base64.
    Hex {
        bytes: usize,
        base64_bytes: Option<usize>,
    },
    /// Neither: what it has instead (e.g. "a space", "'-' or '_' (base64url)").
    Neither { because: String },
    /// No secret at all.
    Empty,
}

impl SecretForm {
    /// Reads the text of a secret.
    pub fn of(secret: &str) -> SecretForm {
        if secret.is_empty() {
            return SecretForm::Empty;
        }
        let base64 = decode(secret, Decoding::Base64).map(|bytes| bytes.len());
        let hex = decode(secret, Decoding::Hex).map(|bytes| bytes.len());
        match (hex, base64) {
            (Some(bytes), base64_bytes) => SecretForm::Hex {
                bytes,
                base64_bytes,
            },
            (None, Some(bytes)) => SecretForm::Base64 { bytes },
            (None, None) => SecretForm::Neither {
                because: why_not_base64(secret),
            },
        }
    }

    /// One line for people: "base64 of 32 bytes".
    pub fn describe(&self) -> String {
        match self {
            SecretForm::Base64 { bytes } => format!("base64 of {bytes} bytes"),
            SecretForm::Hex {
                bytes,
                base64_bytes: Some(b64),
            } => format!(
                "{} hex digits ({bytes} bytes as hex; it also reads as base64, {b64} bytes)",
                bytes * 2
            ),
            SecretForm::Hex {
                bytes,
                base64_bytes: None,
            } => format!("{} hex digits ({bytes} bytes; not base64)", bytes * 2),
            SecretForm::Neither { because } => format!("neither base64 nor hex: {because}"),
            SecretForm::Empty => "empty".to_owned(),
        }
    }
}

fn why_not_base64(secret: &str) -> String {
    if secret.chars().any(char::is_whitespace) {
        return "it contains white space".to_owned();
    }
    if secret.contains(['-', '_']) {
        return "it contains '-' or '_' (base64url, which primaries do not read)".to_owned();
    }
    if secret
        .chars()
        .any(|c| !c.is_ascii_alphanumeric() && !"+/=".contains(c))
    {
        return "it contains characters outside base64's alphabet".to_owned();
    }
    format!(
        "{} characters, not a whole number of base64 groups",
        secret.chars().count()
    )
}

fn decode(secret: &str, decoding: Decoding) -> Option<Vec<u8>> {
    match decoding {
        Decoding::Base64 => domain::utils::base64::decode::<Vec<u8>>(secret).ok(),
        Decoding::Hex => {
            let all_hex =
                secret.len().is_multiple_of(2) && secret.bytes().all(|b| b.is_ascii_hexdigit());
            all_hex
                .then(|| domain::utils::base16::decode_vec(secret).ok())
                .flatten()
        }
    }
    .filter(|bytes| !bytes.is_empty())
}

/// A key that signs as Cloudflare would: its name and algorithm as
/// Cloudflare holds them, its secret read one way. Its `Debug` shows no
/// secret.
#[derive(Clone)]
pub struct SigningKey {
    key: Arc<Key>,
    /// How the secret's text was read to make it.
    pub decoding: Decoding,
}

impl SigningKey {
    pub(crate) fn key(&self) -> &Arc<Key> {
        &self.key
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.key.name().to_string())
            .field("algorithm", &self.key.algorithm())
            .field("decoding", &self.decoding)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// A TSIG key as Cloudflare holds it, read (check I4).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct KeyLint {
    /// The key's name as Cloudflare holds it.
    pub name: String,
    /// Whether the name is a valid domain name (the problem otherwise).
    pub name_problem: Option<String>,
    /// Cloudflare's `algo` as given.
    pub algo: String,
    /// The algorithm it names, if any.
    pub algorithm: Option<KeyAlgorithm>,
    /// What the secret looks like.
    pub secret: SecretForm,
    /// The keys to sign with, most likely first: base64 (as primaries read
    /// secrets), then hex when the text is all hex digits. Empty when the
    /// key cannot be used (see [`cannot_sign`](Self::cannot_sign)).
    pub signing_keys: Vec<SigningKey>,
    /// Why no probe can be signed with this key, if so.
    pub cannot_sign: Option<String>,
}

impl KeyLint {
    /// Reads Cloudflare's key.
    pub fn of(tsig: &Tsig) -> KeyLint {
        Self::read(&tsig.name, &tsig.algo, tsig.secret.expose_secret())
    }

    /// Reads a key given by its parts.
    pub fn read(name: &str, algo: &str, secret: &str) -> KeyLint {
        let key_name =
            KeyName::from_str(name.trim_end_matches('.')).or_else(|_| KeyName::from_str(name));
        let name_problem = match (&key_name, name.is_empty()) {
            (_, true) => Some("the key has no name".to_owned()),
            (Err(err), _) => Some(format!("not a domain name: {err}")),
            (Ok(_), _) => None,
        };
        let algorithm = KeyAlgorithm::parse(algo);
        let form = SecretForm::of(secret);
        let mut cannot_sign = None;
        let mut signing_keys = Vec::new();
        match (algorithm.map(|a| (a, a.signer())), &key_name) {
            (None, _) => cannot_sign = Some(format!("unknown algorithm {algo:?}")),
            (Some((algorithm, None)), _) => {
                cannot_sign = Some(format!(
                    "{} cannot be signed here (the DNS library offers hmac-sha1, -sha256, \
                     -sha384 and -sha512): cannot test; move the key to hmac-sha256",
                    algorithm.as_str()
                ))
            }
            (Some(_), Err(_)) => cannot_sign = name_problem.clone(),
            (Some((_, Some(signer))), Ok(key_name)) => {
                for decoding in [Decoding::Base64, Decoding::Hex] {
                    let Some(bytes) = decode(secret, decoding) else {
                        continue;
                    };
                    if let Ok(key) = Key::new(signer, &bytes, key_name.clone(), None, None) {
                        signing_keys.push(SigningKey {
                            key: Arc::new(key),
                            decoding,
                        });
                    }
                }
                if signing_keys.is_empty() {
                    cannot_sign = Some(format!("the secret is {}", form.describe()));
                }
            }
        }
        KeyLint {
            name: name.to_owned(),
            name_problem,
            algo: algo.to_owned(),
            algorithm,
            secret: form,
            signing_keys,
            cannot_sign,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_read_as_primaries_read_them() {
        assert_eq!(
            KeyAlgorithm::parse("hmac-sha512."),
            Some(KeyAlgorithm::HmacSha512)
        );
        assert_eq!(
            KeyAlgorithm::parse("HMAC-SHA256"),
            Some(KeyAlgorithm::HmacSha256)
        );
        assert_eq!(
            KeyAlgorithm::parse("hmac-md5.sig-alg.reg.int."),
            Some(KeyAlgorithm::HmacMd5)
        );
        assert_eq!(KeyAlgorithm::parse("sha256"), None);
    }

    #[test]
    fn secrets_are_described_by_form_never_shown() {
        let b64 = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==";
        assert_eq!(SecretForm::of(b64), SecretForm::Base64 { bytes: 28 });
        let hex = "caf79a7804b04337c9c66ccd7bef9190";
        assert_eq!(
            SecretForm::of(hex),
            SecretForm::Hex {
                bytes: 16,
                base64_bytes: Some(24)
            }
        );
        let url = "c2VjcmV0_c2VjcmV0-";
        let form = SecretForm::of(url);
        assert!(form.describe().contains("base64url"), "{form:?}");
        assert!(!form.describe().contains("c2Vj"));
        assert_eq!(SecretForm::of(""), SecretForm::Empty);
    }

    #[test]
    fn a_hex_secret_gives_both_keys_base64_first() {
        let lint = KeyLint::read(
            "k.example.",
            "hmac-sha256.",
            "caf79a7804b04337c9c66ccd7bef9190",
        );
        let decodings: Vec<_> = lint.signing_keys.iter().map(|k| k.decoding).collect();
        assert_eq!(decodings, [Decoding::Base64, Decoding::Hex]);
        assert!(!format!("{lint:?}").contains("caf79a78"));
    }

    #[test]
    fn md5_cannot_be_tested_and_says_so() {
        let lint = KeyLint::read("k.", "hmac-md5.sig-alg.reg.int.", "c2VjcmV0");
        assert!(lint.signing_keys.is_empty());
        assert!(lint.cannot_sign.unwrap().contains("cannot test"));
    }
}
