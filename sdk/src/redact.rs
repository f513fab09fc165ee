//! Keeping the client's own secrets out of everything an error can print.
//!
//! The client knows every secret it holds or sends: the credentials, and the
//! TSIG secret of a Create or Update TSIG body. A server may echo any of them
//! (in a body, JSON or not, or in a header), so every piece of server text
//! that reaches an error goes through [`Secrets::scrub`] first, and is cut to
//! a bounded length after it ([`bounded`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// What replaces a secret in error text.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// The secrets one request may meet, in every form a server could echo them.
/// The common forms are searched as they are: as sent, JSON-escaped (with and
/// without `\\/`), and percent-encoded in upper and lower case, so that text
/// holding them is scrubbed in place. Any other escaping (`\u0074ok…`, mixed
/// hex case, one escape inside another) is caught by decoding: text with a
/// `\\` or a `%` that decodes to a secret is scrubbed in its decoded form.
#[derive(Clone, Default)]
pub(crate) struct Secrets {
    /// The secrets as given, for [`Secrets::with`].
    secrets: Arc<[Box<str>]>,
    /// Longest first, so that a secret containing another is replaced whole.
    forms: Arc<[Box<[u8]>]>,
    /// A searcher per form, built once: every success body is searched.
    finders: Arc<[memchr::memmem::Finder<'static>]>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} secrets, [REDACTED])", self.secrets.len())
    }
}

impl Secrets {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let secrets: Arc<[Box<str>]> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(Box::from)
            .collect();
        let mut forms: Vec<Box<[u8]>> = Vec::new();
        for secret in secrets.iter().map(|s| &**s) {
            let escaped = serde_json::to_string(secret).expect("a string serializes");
            let escaped = &escaped[1..escaped.len() - 1];
            // Some encoders (PHP's, by default) also escape `/`.
            let slash_escaped = escaped.replace('/', "\\/");
            let upper = percent_encoded(secret);
            let lower = lower_case_hex(&upper);
            for form in [secret, escaped, &slash_escaped, &upper, &lower] {
                if !forms.iter().any(|f| &**f == form.as_bytes()) {
                    forms.push(form.as_bytes().into());
                }
            }
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        let finders = forms
            .iter()
            .map(|form| memchr::memmem::Finder::new(form).into_owned())
            .collect();
        Self {
            secrets,
            forms: forms.into(),
            finders,
        }
    }

    /// These secrets and `more`.
    pub(crate) fn with<'a>(&self, more: impl IntoIterator<Item = &'a str>) -> Self {
        let more = more.into_iter().map(|secret| -> &str { secret });
        Self::new(self.secrets.iter().map(|s| &**s).chain(more))
    }

    /// The longest form, so that a caller cutting text can scrub a little
    /// past the cut and never leave half a secret at the edge.
    pub(crate) fn longest(&self) -> usize {
        self.forms.first().map_or(0, |f| f.len())
    }

    /// `text` with every form of every secret replaced by `[REDACTED]`; text
    /// that hides a secret behind other escapes is scrubbed decoded.
    pub(crate) fn scrub<'t>(&self, text: &'t [u8]) -> Cow<'t, [u8]> {
        let scrubbed = self.scrub_forms(text);
        match self.decoded_with_a_secret(&scrubbed) {
            Some(decoded) => Cow::Owned(self.scrub_forms(&decoded).into_owned()),
            None => scrubbed,
        }
    }

    /// `text`, decoded, if its escapes hide one of the secrets.
    fn decoded_with_a_secret(&self, text: &[u8]) -> Option<Vec<u8>> {
        if self.secrets.is_empty() || memchr::memchr2(b'\\', b'%', text).is_none() {
            return None;
        }
        let decoded = decoded(text);
        let raw = &self.finders[..];
        raw.iter()
            .zip(self.forms.iter())
            .filter(|(_, form)| self.secrets.iter().any(|s| s.as_bytes() == &***form))
            .any(|(finder, _)| finder.find(&decoded).is_some())
            .then_some(decoded)
    }

    fn scrub_forms<'t>(&self, text: &'t [u8]) -> Cow<'t, [u8]> {
        let mut text = Cow::Borrowed(text);
        for (form, finder) in self.forms.iter().zip(self.finders.iter()) {
            if finder.find(&text).is_none() {
                continue;
            }
            let mut out = Vec::with_capacity(text.len());
            let mut rest: &[u8] = &text;
            while let Some(at) = memchr::memmem::find(rest, form) {
                out.extend_from_slice(&rest[..at]);
                out.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + form.len()..];
            }
            out.extend_from_slice(rest);
            text = Cow::Owned(out);
        }
        text
    }

    /// [`Secrets::scrub`] for text.
    pub(crate) fn scrub_str<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.scrub(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Secrets and the replacement are whole UTF-8 strings.
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// Whether `text` holds one of the secrets, in any form.
    pub(crate) fn contains_any(&self, text: &[u8]) -> bool {
        self.finders
            .iter()
            .any(|finder| finder.find(text).is_some())
            || self.decoded_with_a_secret(text).is_some()
    }

    /// Whether `name` holds one of the secrets in any letter case: header
    /// names arrive lower-cased.
    pub(crate) fn in_header_name(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.secrets
            .iter()
            .any(|secret| name.contains(&secret.to_ascii_lowercase()))
    }
}

/// `text` with its JSON escapes (`\\uXXXX`, surrogate pairs, `\\n`, `\\/`…)
/// and percent escapes (either hex case) decoded, a few times over for an
/// escape inside another. What is not a valid escape stays as it is.
fn decoded(text: &[u8]) -> Vec<u8> {
    let mut current = text.to_vec();
    for _ in 0..3 {
        let next = decoded_once(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn decoded_once(text: &[u8]) -> Vec<u8> {
    let hex = |bytes: &[u8]| -> Option<u32> {
        let text = std::str::from_utf8(bytes).ok()?;
        u32::from_str_radix(text, 16).ok()
    };
    let unit = |at: usize| -> Option<u32> {
        (text.get(at..at + 2)? == b"\\u")
            .then(|| hex(text.get(at + 2..at + 6)?))
            .flatten()
    };
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        if byte == b'%'
            && let Some(value) = text.get(i + 1..i + 3).and_then(hex)
        {
            out.push(value as u8);
            i += 3;
            continue;
        }
        if byte != b'\\' || i + 1 >= text.len() {
            out.push(byte);
            i += 1;
            continue;
        }
        let simple = match text[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(simple) = simple {
            out.push(simple);
            i += 2;
            continue;
        }
        let decoded = unit(i).and_then(|high| match high {
            0xD800..=0xDBFF => {
                let low = unit(i + 6).filter(|low| (0xDC00..=0xDFFF).contains(low))?;
                let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?;
                Some((c, 12))
            }
            _ => Some((char::from_u32(high)?, 6)),
        });
        match decoded {
            Some((c, len)) => {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += len;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// At most `max_chars` characters of `text`, scrubbed of `secrets`, with
/// `… (N more bytes)` when cut. Only the start of the text is scrubbed and
/// copied, so a large text costs no more than a small one.
pub(crate) fn bounded(text: &[u8], max_chars: usize, secrets: &Secrets) -> String {
    bounded_with_rest(text, max_chars, secrets, 0)
}

/// [`bounded`] for the start of a longer text: `rest` more bytes follow `text`.
pub(crate) fn bounded_with_rest(
    text: &[u8],
    max_chars: usize,
    secrets: &Secrets,
    rest: usize,
) -> String {
    // A char is at most 4 bytes; scrub a secret's length past the cut so that
    // a secret across it is replaced whole.
    let window = text.len().min(max_chars * 4 + secrets.longest());
    let scrubbed = secrets.scrub(&text[..window]);
    let lossy = String::from_utf8_lossy(&scrubbed);
    let kept = lossy
        .char_indices()
        .nth(max_chars)
        .map_or(lossy.len(), |(at, _)| at);
    let mut shown: String = lossy[..kept].chars().map(printable).collect();
    // What was left out: of the window (counted on the scrubbed text), past it.
    let left_out = lossy.len() - kept + (text.len() - window) + rest;
    if left_out > 0 {
        shown.push_str(&format!("… ({left_out} more bytes)"));
    }
    shown
}

/// `c`, or a stand-in when `Debug` would escape it as more than two
/// characters: a server's text must not steer a terminal (`\u{1b}[…`) when
/// shown, nor grow much when printed.
fn printable(c: char) -> char {
    match c {
        '"' | '\'' | '\\' | '\n' | '\r' | '\t' => c,
        _ if c.escape_debug().len() > 1 => '\u{fffd}',
        _ => c,
    }
}

/// `%2F` as `%2f`: the lower-case form of a percent-encoded text.
fn lower_case_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut after_percent = 0;
    for c in encoded.chars() {
        if c == '%' {
            after_percent = 2;
            out.push(c);
        } else if after_percent > 0 {
            after_percent -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The RFC 3986 form a server might echo a secret in a URL.
fn percent_encoded(secret: &str) -> String {
    let mut out = String::with_capacity(secret.len());
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_secret_is_replaced() {
        let secrets = Secrets::new(["tok/en\"1", "other"]);
        let text = br#"a tok/en"1 b tok\/en\"1 c tok%2Fen%221 d tok/en\"1 other"#;
        let scrubbed = String::from_utf8(secrets.scrub(text).into_owned()).unwrap();
        assert_eq!(
            scrubbed,
            "a [REDACTED] b [REDACTED] c [REDACTED] d [REDACTED] [REDACTED]"
        );
        assert!(!secrets.contains_any(scrubbed.as_bytes()));
        assert!(matches!(secrets.scrub(b"clean"), Cow::Borrowed(_)));
        assert!(matches!(Secrets::default().scrub(b"x"), Cow::Borrowed(_)));
    }

    #[test]
    fn escaped_forms_are_replaced_after_decoding() {
        let secrets = Secrets::new(["t0ken+/=", "sent"]);
        let cases: [&[u8]; 7] = [
            br#"{"message": "\u0074\u0030ken+/="}"#,
            br#"{"message": "\u0074\u0030\u006b\u0065\u006e\u002b\u002f\u003d"}"#,
            b"t0ken%2b%2f%3d",
            b"t0ken%2B%2f%3D",
            b"t0ken%252B%252F%253D",
            br"t0ken\u002B\/=",
            br#""\u0073\u0065nt" and \ud83d\ude00"#,
        ];
        for text in cases {
            let scrubbed = secrets.scrub(text);
            let shown = String::from_utf8_lossy(&scrubbed);
            assert!(shown.contains(REDACTED), "{shown}");
            assert!(!secrets.contains_any(&scrubbed), "{shown}");
            assert!(secrets.contains_any(text), "{shown}");
        }
        // Text that only looks escaped is left as it is.
        for text in [&br"C:\new\u12 100% \ud800"[..], b"%zz%4", b"\\"] {
            assert!(matches!(secrets.scrub(text), Cow::Borrowed(_)));
            assert!(!secrets.contains_any(text));
        }
        assert_eq!(
            decoded(br"\ud83d\ude00 \u00e9 %41\n"),
            "😀 é A\n".as_bytes()
        );
    }

    #[test]
    fn header_names_are_searched_in_any_case() {
        let secrets = Secrets::new(["Sent-TSIG-Secret"]);
        assert!(secrets.in_header_name("x-sent-tsig-secret"));
        assert!(!secrets.in_header_name("x-request-id"));
    }

    #[test]
    fn a_secret_containing_another_is_replaced_whole() {
        let secrets = Secrets::new(["abc", "xxabcxx"]);
        assert_eq!(&*secrets.scrub(b"1xxabcxx2abc"), b"1[REDACTED]2[REDACTED]");
        let more = secrets.with(["zz"]);
        assert_eq!(&*more.scrub(b"zz abc"), b"[REDACTED] [REDACTED]");
    }

    #[test]
    fn bounded_text_is_short_and_never_shows_half_a_secret() {
        let secrets = Secrets::new(["SECRETSECRET"]);
        let text = format!("{}SECRETSECRET and more", "x".repeat(15));
        let shown = bounded(text.as_bytes(), 20, &secrets);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.starts_with("xxxxxxxxxxxxxxx[REDA…"), "{shown}");
        let big = "y".repeat(1 << 20);
        let shown = bounded(big.as_bytes(), 10, &secrets);
        assert_eq!(
            shown,
            format!("yyyyyyyyyy… ({} more bytes)", (1 << 20) - 10)
        );
        assert_eq!(bounded(b"short", 10, &secrets), "short");
        assert_eq!(bounded(b"\xff\xfe", 10, &secrets), "\u{fffd}\u{fffd}");
        assert_eq!(
            bounded("a\nb\u{1b}[31m\u{202e}\"\\".as_bytes(), 20, &secrets),
            "a\nb\u{fffd}[31m\u{fffd}\"\\"
        );
    }
}
