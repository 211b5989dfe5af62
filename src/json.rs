//! A JSON reader that allocates nothing: it validates a document once
//! (RFC 8259, nesting at most [`MAX_DEPTH`]) and then looks values up by key,
//! handing out slices of the input.
//!
//! Strings are returned raw (between the quotes, escapes not decoded);
//! [`Value::decode_str`] decodes them into a caller buffer when needed and
//! key comparison decodes on the fly, so `"job\u0049d"` matches `jobId`.

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 16;

/// Why a document was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// Not valid JSON (syntax, control character, bad escape, trailing data).
    Syntax,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// The type of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{...}`
    Object,
    /// `[...]`
    Array,
    /// `"..."`
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

/// A value inside a validated document: its kind and its exact text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value<'a> {
    kind: Kind,
    text: &'a [u8],
}

/// Validate `src` as one JSON value (surrounding whitespace allowed).
pub fn parse(src: &[u8]) -> Result<Value<'_>, JsonError> {
    let mut c = Cursor { src, pos: 0 };
    c.skip_ws();
    let v = c.value(0)?;
    c.skip_ws();
    if c.pos != src.len() {
        return Err(JsonError::Syntax);
    }
    Ok(v)
}

impl<'a> Value<'a> {
    /// The value's type.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The value's exact source text.
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        self.kind == Kind::Null
    }

    /// The member `key` of an object (the first, if repeated); `None` if this is
    /// not an object or has no such member.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members()
            .find(|(k, _)| raw_str_eq(k, key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The member at a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<Value<'a>> {
        keys.iter().try_fold(*self, |v, k| v.get(k))
    }

    /// The `index`-th element of an array.
    pub fn at(&self, index: usize) -> Option<Value<'a>> {
        self.elements().nth(index)
    }

    /// The elements of an array (empty for other kinds).
    pub fn elements(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        self.children(Kind::Array).map(|(_, v)| v)
    }

    /// The members of an object as (raw key, value) (empty for other kinds).
    pub fn members(&self) -> impl Iterator<Item = (&'a [u8], Value<'a>)> + 'a {
        self.children(Kind::Object)
    }

    fn children(&self, kind: Kind) -> Children<'a> {
        let body = if self.kind == kind && self.text.len() >= 2 {
            &self.text[1..self.text.len() - 1]
        } else {
            &[]
        };
        Children {
            c: Cursor { src: body, pos: 0 },
            object: kind == Kind::Object,
        }
    }

    /// The raw contents of a string (between the quotes, escapes intact).
    pub fn raw_str(&self) -> Option<&'a [u8]> {
        (self.kind == Kind::String).then(|| &self.text[1..self.text.len() - 1])
    }

    /// Decode a string's escapes into `out`; its length, or `None` if this is
    /// not a string, it does not fit, or it is not valid UTF-8.
    pub fn decode_str<'o>(&self, out: &'o mut [u8]) -> Option<&'o str> {
        let raw = self.raw_str()?;
        let mut n = 0;
        for b in Unescape::new(raw) {
            *out.get_mut(n)? = b?;
            n += 1;
        }
        core::str::from_utf8(&out[..n]).ok()
    }

    /// A strict u32: a JSON number, or a string, holding decimal digits (no
    /// sign, fraction, exponent or leading zero) or `0x`/`0X` and hex digits,
    /// not above `u32::MAX`.
    pub fn as_u32(&self) -> Option<u32> {
        match self.kind {
            Kind::Number => parse_u32(self.text),
            Kind::String => parse_u32(self.raw_str()?),
            _ => None,
        }
    }
}

/// Parse a strict u32 (see [`Value::as_u32`]).
pub fn parse_u32(text: &[u8]) -> Option<u32> {
    let (digits, radix) = match text {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', _, ..] => return None,
        _ => (text, 10),
    };
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = (d as char).to_digit(radix)?;
        acc.checked_mul(radix)?.checked_add(v)
    })
}

struct Children<'a> {
    c: Cursor<'a>,
    object: bool,
}

impl<'a> Iterator for Children<'a> {
    type Item = (&'a [u8], Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let c = &mut self.c;
        c.skip_ws();
        if c.peek() == Some(b',') {
            c.pos += 1;
            c.skip_ws();
        }
        if c.pos >= c.src.len() {
            return None;
        }
        let key: &'a [u8] = if self.object {
            let k = c.string().ok()?;
            c.skip_ws();
            c.expect(b':').ok()?;
            c.skip_ws();
            &k[1..k.len() - 1]
        } else {
            &[]
        };
        // The document was validated, so depth 0 here cannot overflow the
        // original limit by more than the nesting already accepted.
        let v = c.value(0).ok()?;
        Some((key, v))
    }
}

struct Cursor<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, JsonError> {
        let start = self.pos;
        let kind = match self.peek().ok_or(JsonError::Syntax)? {
            b'{' => {
                self.container(depth, b'}', true)?;
                Kind::Object
            }
            b'[' => {
                self.container(depth, b']', false)?;
                Kind::Array
            }
            b'"' => {
                self.string()?;
                Kind::String
            }
            b't' => self.literal(b"true", Kind::Bool)?,
            b'f' => self.literal(b"false", Kind::Bool)?,
            b'n' => self.literal(b"null", Kind::Null)?,
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Kind::Number
            }
            _ => return Err(JsonError::Syntax),
        };
        Ok(Value {
            kind,
            text: &self.src[start..self.pos],
        })
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Result<(), JsonError> {
        if depth >= MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if object {
                self.string()?;
                self.skip_ws();
                self.expect(b':')?;
                self.skip_ws();
            }
            self.value(depth + 1)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// A string token; returns it with its quotes.
    fn string(&mut self) -> Result<&'a [u8], JsonError> {
        let start = self.pos;
        self.expect(b'"')?;
        loop {
            match self.peek().ok_or(JsonError::Syntax)? {
                b'"' => {
                    self.pos += 1;
                    return Ok(&self.src[start..self.pos]);
                }
                b'\\' => {
                    self.pos += 1;
                    match self.peek().ok_or(JsonError::Syntax)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            let hex = self.src.get(self.pos + 1..self.pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(JsonError::Syntax);
                            }
                            self.pos += 5;
                        }
                        _ => return Err(JsonError::Syntax),
                    }
                }
                0x00..=0x1f => return Err(JsonError::Syntax),
                _ => self.pos += 1,
            }
        }
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> Result<Kind, JsonError> {
        if self.src.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(JsonError::Syntax),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(JsonError::Syntax);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(JsonError::Syntax);
            }
        }
        Ok(())
    }
}

/// Compare a raw (escaped) JSON string with plain bytes.
fn raw_str_eq(raw: &[u8], plain: &[u8]) -> bool {
    let mut decoded = Unescape::new(raw);
    plain
        .iter()
        .all(|&p| matches!(decoded.next(), Some(Some(b)) if b == p))
        && decoded.next().is_none()
}

/// Decodes the escapes of a raw JSON string into UTF-8 bytes; yields `None`
/// for an escape it cannot decode (e.g. a lone surrogate).
struct Unescape<'a> {
    raw: &'a [u8],
    pos: usize,
    pending: [u8; 4],
    pending_len: u8,
    pending_pos: u8,
}

impl<'a> Unescape<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Unescape {
            raw,
            pos: 0,
            pending: [0; 4],
            pending_len: 0,
            pending_pos: 0,
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.raw.get(at..at + 4)?;
        h.iter()
            .try_fold(0u32, |acc, &d| Some(acc * 16 + (d as char).to_digit(16)?))
    }

    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4(self.pos + 2)?;
        self.pos += 6;
        if (0xd800..0xdc00).contains(&hi) {
            if self.raw.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return None;
            }
            let lo = self.hex4(self.pos + 2)?;
            if !(0xdc00..0xe000).contains(&lo) {
                return None;
            }
            self.pos += 6;
            char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
        } else {
            char::from_u32(hi)
        }
    }
}

impl Iterator for Unescape<'_> {
    type Item = Option<u8>;

    fn next(&mut self) -> Option<Option<u8>> {
        if self.pending_pos < self.pending_len {
            self.pending_pos += 1;
            return Some(Some(self.pending[self.pending_pos as usize - 1]));
        }
        let b = *self.raw.get(self.pos)?;
        if b != b'\\' {
            self.pos += 1;
            return Some(Some(b));
        }
        let simple = match self.raw.get(self.pos + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let Some(ch) = self.unicode_escape() else {
                    self.pos = self.raw.len();
                    return Some(None);
                };
                let s = ch.encode_utf8(&mut self.pending);
                self.pending_len = s.len() as u8;
                self.pending_pos = 1;
                return Some(Some(self.pending[0]));
            }
            _ => {
                self.pos = self.raw.len();
                return Some(None);
            }
        };
        self.pos += 2;
        Some(Some(simple))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Value<'_>, JsonError> {
        parse(s.as_bytes())
    }

    #[test]
    fn validates() {
        for ok in [
            "{}",
            "[]",
            " {\"a\" : [1, -2.5e3, true, false, null, \"x\\n\\u00e9\"]} ",
            "0",
            "\"\\ud83d\\ude00\"",
        ] {
            assert!(p(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"\u{1}\"",
            "\"\\x\"",
            "\"\\u12\"",
            "{} {}",
            "not a json",
            "{a:1}",
        ] {
            assert_eq!(p(bad).map(|_| ()), Err(JsonError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep: std::string::String = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(p(&deep).is_ok());
        let deeper = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(p(&deeper).map(|_| ()), Err(JsonError::TooDeep));
    }

    #[test]
    fn looks_up_paths_and_elements() {
        let doc =
            p(r#"{"execution":{"jobId":"j1","jobDocument":{"files":[{"filesize":10},{"x":1}]}}}"#)
                .unwrap();
        let id = doc.path(&["execution", "jobId"]).unwrap();
        assert_eq!(id.raw_str(), Some(&b"j1"[..]));
        let files = doc.path(&["execution", "jobDocument", "files"]).unwrap();
        assert_eq!(files.kind(), Kind::Array);
        assert_eq!(files.elements().count(), 2);
        assert_eq!(
            files.at(0).unwrap().get("filesize").unwrap().as_u32(),
            Some(10)
        );
        assert!(files.at(2).is_none());
        assert!(
            doc.get("jobId").is_none(),
            "lookups do not search nested objects"
        );
        assert!(id.get("x").is_none());
    }

    #[test]
    fn keys_compare_decoded() {
        let doc = p(r#"{"job\u0049d":"a","x\"y":2}"#).unwrap();
        assert!(doc.get("jobId").is_some());
        assert!(doc.get("x\"y").is_some());
        assert!(doc.get("job").is_none());
        assert!(doc.get("jobIdd").is_none());
    }

    #[test]
    fn decodes_strings() {
        let v = p(r#""a\/b\u00e9\ud83d\ude00\n""#).unwrap();
        let mut buf = [0u8; 32];
        assert_eq!(v.decode_str(&mut buf), Some("a/bé😀\n"));
        let mut small = [0u8; 3];
        assert_eq!(v.decode_str(&mut small), None);
        let lone = p(r#""\ud83d""#).unwrap();
        assert_eq!(lone.decode_str(&mut buf), None);
    }

    #[test]
    fn strict_u32() {
        let n = |s: &str| p(s).unwrap().as_u32();
        assert_eq!(n("1024"), Some(1024));
        assert_eq!(n("\"1024\""), Some(1024));
        assert_eq!(n("\"0x1000000\""), Some(0x0100_0000));
        assert_eq!(n("\"0x01000000\""), Some(0x0100_0000));
        assert_eq!(n("\"0X10\""), Some(16));
        assert_eq!(n("4294967295"), Some(u32::MAX));
        assert_eq!(n("0"), Some(0));
        for bad in [
            "4294967296",
            "19223372036854775808",
            "-1",
            "\"-1\"",
            "12.5",
            "1e3",
            "\"NaN\"",
            "\"0123\"",
            "\"0x\"",
            "\"0x100000000\"",
            "\"+5\"",
            "\" 5\"",
            "\"\"",
            "true",
            "null",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if let Ok(v) = parse(&input) {
                let _ = v.path(&["a", "b"]);
                let _ = v.elements().count();
                let mut buf = [0u8; 64];
                let _ = v.decode_str(&mut buf);
                let _ = v.as_u32();
            }
        }

        #[test]
        fn u32_text_round_trips(x in proptest::num::u32::ANY) {
            let dec = std::format!("{x}");
            let hex = std::format!("0x{x:08x}");
            proptest::prop_assert_eq!(parse_u32(dec.as_bytes()), Some(x));
            proptest::prop_assert_eq!(parse_u32(hex.as_bytes()), Some(x));
        }

        #[test]
        fn finds_every_member(keys in proptest::collection::btree_set("[a-z]{1,6}", 1..8)) {
            let body: std::vec::Vec<std::string::String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| std::format!("\"{k}\": [{i}, {{\"n\": {i}}}]"))
                .collect();
            let text = std::format!("{{{}}}", body.join(" , "));
            let doc = parse(text.as_bytes()).unwrap();
            for (i, k) in keys.iter().enumerate() {
                let v = doc.get(k).unwrap();
                proptest::prop_assert_eq!(v.at(1).unwrap().get("n").unwrap().as_u32(), Some(i as u32));
            }
        }
    }
}
