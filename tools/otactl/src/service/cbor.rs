//! The CBOR wire format of MQTT-based file delivery, service side
//! (PROTOCOL.md §5): GetStream requests in, data blocks and errors out.
//!
//! Written independently of the core's device-side codec, on `ciborium`.

use ciborium::value::{Integer, Value};

/// Block sizes the service accepts (`l`).
pub(crate) const BLOCK_SIZE_RANGE: std::ops::RangeInclusive<u64> = 256..=131_072;
/// The largest `o` and `n` the service accepts.
pub(crate) const MAX_BLOCK_INDEX: u64 = 98_304;
/// A bitmap must be shorter than this many bytes.
pub(crate) const BITMAP_LIMIT: usize = 12_288;
/// The longest client token, in bytes.
const MAX_CLIENT_TOKEN: usize = 64;

/// The error codes of MQTT-based file delivery that this service sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamErrorCode {
    /// The payload is not CBOR.
    InvalidCbor,
    /// The request is malformed (missing or mistyped field, bad token).
    InvalidRequest,
    /// `l` is outside 256..=131072.
    BlockSizeOutOfBounds,
    /// `o` is above 98304 or past the end of the file.
    OffsetOutOfBounds,
    /// `n` is above 98304.
    BlockCountLimitExceeded,
    /// The bitmap is 12288 bytes or longer.
    BlockBitmapLimitExceeded,
    /// No such stream or file.
    ResourceNotFound,
    /// `s` is not the stream's version.
    VersionMismatch,
}

impl StreamErrorCode {
    /// The code as sent in `o`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamErrorCode::InvalidCbor => "InvalidCbor",
            StreamErrorCode::InvalidRequest => "InvalidRequest",
            StreamErrorCode::BlockSizeOutOfBounds => "BlockSizeOutOfBounds",
            StreamErrorCode::OffsetOutOfBounds => "OffsetOutOfBounds",
            StreamErrorCode::BlockCountLimitExceeded => "BlockCountLimitExceeded",
            StreamErrorCode::BlockBitmapLimitExceeded => "BlockBitmapLimitExceeded",
            StreamErrorCode::ResourceNotFound => "ResourceNotFound",
            StreamErrorCode::VersionMismatch => "VersionMismatch",
        }
    }
}

/// A GetStream error, sent on `rejected/cbor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StreamError {
    pub code: StreamErrorCode,
    pub message: String,
    /// Echoed as `c` when the request had a valid one.
    pub client_token: Option<String>,
}

/// A decoded, range-checked GetStream request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GetStreamRequest {
    pub client_token: Option<String>,
    pub version: Option<u64>,
    pub file_id: u8,
    pub block_size: u32,
    pub offset: u32,
    /// `n`; `None` when absent or 0.
    pub count: Option<u32>,
    pub bitmap: Option<Vec<u8>>,
}

/// Decodes and range-checks a GetStream request. Never panics.
pub(crate) fn decode_get_stream(bytes: &[u8]) -> Result<GetStreamRequest, StreamError> {
    let fail = |code, message: &str, token: Option<&String>| StreamError {
        code,
        message: message.to_owned(),
        client_token: token.cloned(),
    };
    let mut reader = bytes;
    let value: Value = ciborium::de::from_reader(&mut reader).map_err(|e| {
        fail(
            StreamErrorCode::InvalidCbor,
            &format!("the request is not CBOR: {e}"),
            None,
        )
    })?;
    if !reader.is_empty() {
        return Err(fail(
            StreamErrorCode::InvalidCbor,
            "trailing bytes after the CBOR request",
            None,
        ));
    }
    let Value::Map(entries) = value else {
        return Err(fail(
            StreamErrorCode::InvalidRequest,
            "the request must be a CBOR map",
            None,
        ));
    };
    let field = |name: &str| {
        entries.iter().find_map(|(k, v)| match k {
            Value::Text(t) if t == name => Some(v),
            _ => None,
        })
    };
    let token = match field("c") {
        None => None,
        Some(Value::Text(t)) if t.len() <= MAX_CLIENT_TOKEN => Some(t.clone()),
        Some(_) => {
            return Err(fail(
                StreamErrorCode::InvalidRequest,
                "c must be a text string of at most 64 bytes",
                None,
            ))
        }
    };
    let token = token.as_ref();
    let integer = |name: &str, required: bool| -> Result<Option<i128>, StreamError> {
        match field(name) {
            None if required => Err(fail(
                StreamErrorCode::InvalidRequest,
                &format!("{name} is missing"),
                token,
            )),
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(i128::from(*i))),
            Some(_) => Err(fail(
                StreamErrorCode::InvalidRequest,
                &format!("{name} must be an integer"),
                token,
            )),
        }
    };
    let file_id = integer("f", true)?.unwrap_or_default();
    let file_id = u8::try_from(file_id).map_err(|_| {
        fail(
            StreamErrorCode::InvalidRequest,
            "f must be a file id in 0..=255",
            token,
        )
    })?;
    let block_size = integer("l", true)?.unwrap_or_default();
    let block_size = u64::try_from(block_size)
        .ok()
        .filter(|l| BLOCK_SIZE_RANGE.contains(l))
        .ok_or_else(|| {
            fail(
                StreamErrorCode::BlockSizeOutOfBounds,
                "l must be in 256..=131072",
                token,
            )
        })?;
    let offset = integer("o", false)?.unwrap_or_default();
    let offset = u64::try_from(offset)
        .ok()
        .filter(|o| *o <= MAX_BLOCK_INDEX)
        .ok_or_else(|| {
            fail(
                StreamErrorCode::OffsetOutOfBounds,
                "o must be in 0..=98304",
                token,
            )
        })?;
    let count = match integer("n", false)? {
        None => None,
        Some(n) => Some(
            u64::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_BLOCK_INDEX)
                .ok_or_else(|| {
                    fail(
                        StreamErrorCode::BlockCountLimitExceeded,
                        "n must be in 0..=98304",
                        token,
                    )
                })?,
        ),
    };
    let bitmap = match field("b") {
        None => None,
        Some(Value::Bytes(b)) if b.len() >= BITMAP_LIMIT => {
            return Err(fail(
                StreamErrorCode::BlockBitmapLimitExceeded,
                "the bitmap must be shorter than 12288 bytes",
                token,
            ))
        }
        Some(Value::Bytes(b)) => Some(b.clone()),
        Some(_) => {
            return Err(fail(
                StreamErrorCode::InvalidRequest,
                "b must be a CBOR byte string",
                token,
            ));
        }
    };
    let version = match integer("s", false)? {
        None => None,
        Some(s) => Some(u64::try_from(s).map_err(|_| {
            fail(
                StreamErrorCode::InvalidRequest,
                "s must be a stream version",
                token,
            )
        })?),
    };
    // The ranges above make these conversions lossless.
    Ok(GetStreamRequest {
        client_token: token.cloned(),
        version,
        file_id,
        block_size: block_size as u32,
        offset: offset as u32,
        count: count.filter(|n| *n > 0).map(|n| n as u32),
        bitmap,
    })
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn to_vec(value: &Value, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    ciborium::ser::into_writer(value, &mut out).expect("CBOR encoding into a Vec cannot fail");
    out
}

/// A data message: `{c, f, l, i, p}` with `l` = the payload length (`c` only
/// when the request had a token).
pub(crate) fn encode_block(
    client_token: Option<&str>,
    file_id: u8,
    index: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut entries = Vec::with_capacity(5);
    if let Some(token) = client_token {
        entries.push((text("c"), text(token)));
    }
    entries.push((text("f"), Value::Integer(Integer::from(file_id))));
    entries.push((
        text("l"),
        Value::Integer(Integer::from(payload.len() as u64)),
    ));
    entries.push((text("i"), Value::Integer(Integer::from(index))));
    entries.push((text("p"), Value::Bytes(payload.to_vec())));
    to_vec(&Value::Map(entries), payload.len() + 96)
}

/// An error message: `{o: code, m: message, c: token}`.
pub(crate) fn encode_rejected(error: &StreamError) -> Vec<u8> {
    let mut entries = vec![
        (text("o"), text(error.code.as_str())),
        (text("m"), text(&error.message)),
    ];
    if let Some(token) = &error.client_token {
        entries.push((text("c"), text(token)));
    }
    to_vec(&Value::Map(entries), 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_the_c_agent_requests_byte_for_byte() {
        // PROTOCOL.md §5.1, unit-test vector.
        let req = decode_get_stream(&hex(
            "a6 61 63 72 5468697349734143 6c69656e74546f6b656e 61 66 01 61 6c 19 1000 \
             61 6f 00 61 62 44 aaaaaaaa 61 6e 04",
        ))
        .unwrap();
        assert_eq!(req.client_token.as_deref(), Some("ThisIsAClientToken"));
        assert_eq!(
            (req.file_id, req.block_size, req.offset, req.count),
            (1, 4096, 0, Some(4))
        );
        assert_eq!(req.bitmap, Some(vec![0xaa; 4]));
        // First request for a 3-block file.
        let req = decode_get_stream(&hex(
            "a6 6163 63726479 6166 00 616c 191000 616f 00 6162 41 07 616e 01",
        ))
        .unwrap();
        assert_eq!(req.bitmap, Some(vec![7]));
        assert_eq!(req.count, Some(1));
    }

    #[test]
    fn block_encoding_is_minimal() {
        let bytes = encode_block(Some("rdy"), 0, 2, &[0xde, 0xad]);
        assert_eq!(
            bytes,
            hex("a5 6163 63726479 6166 00 616c 02 6169 02 6170 42 dead")
        );
        let bytes = encode_block(None, 3, 300, &[]);
        assert_eq!(bytes, hex("a4 6166 03 616c 00 6169 19012c 6170 40"));
    }

    #[test]
    fn rejects_with_codes() {
        let code = |bytes: &[u8]| decode_get_stream(bytes).unwrap_err().code;
        assert_eq!(code(b""), StreamErrorCode::InvalidCbor);
        assert_eq!(code(&hex("ff")), StreamErrorCode::InvalidCbor);
        assert_eq!(
            code(&hex("a1 6166 00 00")),
            StreamErrorCode::InvalidCbor,
            "trailing byte"
        );
        assert_eq!(
            code(&hex("5b ffffffffffffffff")),
            StreamErrorCode::InvalidCbor,
            "huge length"
        );
        assert_eq!(code(&hex("83 01 02 03")), StreamErrorCode::InvalidRequest);
        assert_eq!(
            code(&hex("a1 616c 191000")),
            StreamErrorCode::InvalidRequest,
            "no f"
        );
        assert_eq!(
            code(&hex("a1 6166 00")),
            StreamErrorCode::InvalidRequest,
            "no l"
        );
        assert_eq!(
            code(&hex("a2 6166 190100 616c 191000")),
            StreamErrorCode::InvalidRequest,
            "f=256"
        );
        assert_eq!(
            code(&hex("a2 6166 00 616c 1900ff")),
            StreamErrorCode::BlockSizeOutOfBounds
        );
        assert_eq!(
            code(&hex("a2 6166 00 616c 1a00020001")),
            StreamErrorCode::BlockSizeOutOfBounds
        );
        assert_eq!(
            code(&hex("a3 6166 00 616c 191000 616f 1a00018001")),
            StreamErrorCode::OffsetOutOfBounds
        );
        assert_eq!(
            code(&hex("a3 6166 00 616c 191000 616f 20")),
            StreamErrorCode::OffsetOutOfBounds
        );
        assert_eq!(
            code(&hex("a3 6166 00 616c 191000 616e 1a00018001")),
            StreamErrorCode::BlockCountLimitExceeded
        );
        assert_eq!(
            code(&hex("a3 6166 00 616c 191000 6162 62 3037")),
            StreamErrorCode::InvalidRequest,
            "hex text bitmap"
        );
        let mut big = hex("a3 6166 00 616c 191000 6162 59 3000");
        big.extend(std::iter::repeat_n(0xff, 0x3000));
        assert_eq!(code(&big), StreamErrorCode::BlockBitmapLimitExceeded);
        let long_token = format!("a3 6163 7841 {} 6166 00 616c 191000", "61".repeat(65));
        let err = decode_get_stream(&hex(&long_token)).unwrap_err();
        assert_eq!(
            (err.code, err.client_token),
            (StreamErrorCode::InvalidRequest, None)
        );
        let err = decode_get_stream(&hex("a2 6163 6178 6166 00")).unwrap_err();
        assert_eq!(
            err.client_token.as_deref(),
            Some("x"),
            "a valid token is echoed"
        );
    }

    #[test]
    fn rejected_encoding() {
        let err = StreamError {
            code: StreamErrorCode::ResourceNotFound,
            message: "m".into(),
            client_token: Some("t".into()),
        };
        assert_eq!(encode_rejected(&err)[..3], hex("a3 616f")[..]);
        let decoded: Value = ciborium::de::from_reader(&encode_rejected(&err)[..]).unwrap();
        assert_eq!(
            decoded,
            Value::Map(vec![
                (text("o"), text("ResourceNotFound")),
                (text("m"), text("m")),
                (text("c"), text("t")),
            ])
        );
    }
}
