//! The CBOR messages of MQTT-based file delivery (PROTOCOL.md §5).
//!
//! The request is byte-identical to the C agent's: a 6-pair map in the order
//! `c f l o b n`, minimal integer heads, the bitmap as a byte string. A block
//! response is read in any key order with extra keys ignored; `f`, `i`, `l`
//! must be unsigned integers and `p` a definite-length byte string, each
//! present exactly once.

use minicbor::decode::Decoder;
use minicbor::encode::write::Cursor;
use minicbor::Encoder;

/// The client token the agent sends (the service echoes it back).
pub const CLIENT_TOKEN: &str = "rdy";

/// A GetStream request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamRequest<'a> {
    /// `c`: client token.
    pub client_token: &'a str,
    /// `f`: file id.
    pub file_id: u32,
    /// `l`: block size.
    pub block_size: u32,
    /// `o`: the block the bitmap starts at.
    pub offset: u32,
    /// `b`: bit k set = block `offset + k` wanted (LSB first).
    pub bitmap: &'a [u8],
    /// `n`: the most blocks to send.
    pub count: u32,
}

/// The request did not fit the output buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall;

/// Encode `req` into `out`; the number of bytes written.
pub fn encode_request(req: &StreamRequest<'_>, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
    let mut e = Encoder::new(Cursor::new(out));
    e.map(6)
        .and_then(|e| e.str("c")?.str(req.client_token))
        .and_then(|e| e.str("f")?.u32(req.file_id))
        .and_then(|e| e.str("l")?.u32(req.block_size))
        .and_then(|e| e.str("o")?.u32(req.offset))
        .and_then(|e| e.str("b")?.bytes(req.bitmap))
        .and_then(|e| e.str("n")?.u32(req.count))
        .map_err(|_| BufferTooSmall)?;
    Ok(e.into_writer().position())
}

/// One block of a file, borrowed from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// `f`: file id.
    pub file_id: u32,
    /// `i`: block index.
    pub index: u32,
    /// `l`: the length the service claims.
    pub length: u32,
    /// `p`: the data.
    pub payload: &'a [u8],
}

/// Why a block message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// Not a CBOR map, or malformed CBOR.
    Malformed,
    /// A key is missing, repeated, or of the wrong type.
    BadField(&'static str),
}

/// A truncated message is malformed; any other error reading a field's value
/// (wrong type, out of u32 range) is a bad field.
fn field_error(e: minicbor::decode::Error, name: &'static str) -> BlockError {
    if e.is_end_of_input() {
        BlockError::Malformed
    } else {
        BlockError::BadField(name)
    }
}

/// Decode a block message from `.../streams/{stream}/data/cbor`.
pub fn decode_block(msg: &[u8]) -> Result<Block<'_>, BlockError> {
    let mut d = Decoder::new(msg);
    let pairs = d.map().map_err(|_| BlockError::Malformed)?;
    let (mut f, mut i, mut l, mut p) = (None, None, None, None);
    let mut seen = 0u64;
    loop {
        match pairs {
            Some(n) if seen == n => break,
            None if matches!(d.datatype(), Ok(minicbor::data::Type::Break)) => {
                d.skip().map_err(|_| BlockError::Malformed)?;
                break;
            }
            _ => {}
        }
        seen += 1;
        let key = d.str().map_err(|_| BlockError::Malformed)?;
        let (slot, name): (&mut Option<_>, _) = match key {
            "f" => (&mut f, "f"),
            "i" => (&mut i, "i"),
            "l" => (&mut l, "l"),
            "p" => {
                if p.is_some() {
                    return Err(BlockError::BadField("p"));
                }
                p = Some(d.bytes().map_err(|e| field_error(e, "p"))?);
                continue;
            }
            _ => {
                d.skip().map_err(|_| BlockError::Malformed)?;
                continue;
            }
        };
        if slot.is_some() {
            return Err(BlockError::BadField(name));
        }
        *slot = Some(d.u32().map_err(|e| field_error(e, name))?);
    }
    if d.position() != msg.len() {
        return Err(BlockError::Malformed);
    }
    Ok(Block {
        file_id: f.ok_or(BlockError::BadField("f"))?,
        index: i.ok_or(BlockError::BadField("i"))?,
        length: l.ok_or(BlockError::BadField("l"))?,
        payload: p.ok_or(BlockError::BadField("p"))?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::vec::Vec;

    fn hex(s: &str) -> Vec<u8> {
        let s: std::string::String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn encode(req: &StreamRequest) -> Vec<u8> {
        let mut buf = [0u8; 128];
        let n = encode_request(req, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    /// Encode a block response the way the service does.
    pub(crate) fn block_message(f: u32, i: u32, l: u32, p: &[u8]) -> Vec<u8> {
        let mut buf = std::vec![0u8; p.len() + 64];
        let mut e = Encoder::new(Cursor::new(&mut buf[..]));
        e.map(5).unwrap();
        e.str("c").unwrap().str("rdy").unwrap();
        e.str("f").unwrap().u32(f).unwrap();
        e.str("l").unwrap().u32(l).unwrap();
        e.str("i").unwrap().u32(i).unwrap();
        e.str("p").unwrap().bytes(p).unwrap();
        let n = e.into_writer().position();
        buf.truncate(n);
        buf
    }

    #[test]
    fn byte_exact_unit_test_request() {
        let req = StreamRequest {
            client_token: "ThisIsAClientToken",
            file_id: 1,
            block_size: 4096,
            offset: 0,
            bitmap: &[0xaa; 4],
            count: 4,
        };
        assert_eq!(
            encode(&req),
            hex("a6 61 63 72 5468697349734143 6c69656e74546f6b656e 61 66 01 61 6c 19 1000 61 6f 00 61 62 44 aaaaaaaa 61 6e 04")
        );
    }

    #[test]
    fn byte_exact_first_request_for_three_blocks() {
        let req = StreamRequest {
            client_token: CLIENT_TOKEN,
            file_id: 0,
            block_size: 4096,
            offset: 0,
            bitmap: &[0x07],
            count: 1,
        };
        assert_eq!(
            encode(&req),
            hex("a6 6163 63726479 6166 00 616c 191000 616f 00 6162 41 07 616e 01")
        );
    }

    #[test]
    fn too_small_a_buffer_is_an_error() {
        let req = StreamRequest {
            client_token: CLIENT_TOKEN,
            file_id: 0,
            block_size: 4096,
            offset: 0,
            bitmap: &[0xff; 32],
            count: 1,
        };
        let mut buf = [0u8; 20];
        assert_eq!(encode_request(&req, &mut buf), Err(BufferTooSmall));
    }

    #[test]
    fn decodes_any_key_order_and_ignores_extra_keys() {
        let msg = block_message(3, 7, 4, b"abcd");
        let b = decode_block(&msg).unwrap();
        assert_eq!(
            (b.file_id, b.index, b.length, b.payload),
            (3, 7, 4, &b"abcd"[..])
        );

        // p first, extra keys of several types, indefinite-length map.
        let mut e = Encoder::new(Vec::new());
        e.begin_map().unwrap();
        e.str("p").unwrap().bytes(b"xy").unwrap();
        e.str("zz")
            .unwrap()
            .array(2)
            .unwrap()
            .u8(1)
            .unwrap()
            .str("q")
            .unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("l").unwrap().u32(2).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.end().unwrap();
        let msg = e.into_writer();
        let b = decode_block(&msg).unwrap();
        assert_eq!((b.index, b.payload), (0, &b"xy"[..]));
    }

    #[test]
    fn refuses_malformed_blocks() {
        let good = block_message(0, 1, 2, b"ab");
        assert!(decode_block(&good).is_ok());
        assert_eq!(
            decode_block(&good[..good.len() - 1]),
            Err(BlockError::Malformed)
        );
        assert_eq!(decode_block(b""), Err(BlockError::Malformed));
        assert_eq!(decode_block(&[0x80]), Err(BlockError::Malformed));

        let mut with_trailing = good.clone();
        with_trailing.push(0);
        assert_eq!(decode_block(&with_trailing), Err(BlockError::Malformed));

        // Negative index.
        let mut e = Encoder::new(Vec::new());
        e.map(4).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().i32(-1).unwrap();
        e.str("l").unwrap().u32(1).unwrap();
        e.str("p").unwrap().bytes(b"a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("i"))
        );

        // Payload as a text string.
        let mut e = Encoder::new(Vec::new());
        e.map(4).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("l").unwrap().u32(1).unwrap();
        e.str("p").unwrap().str("a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("p"))
        );

        // Missing and repeated keys.
        let mut e = Encoder::new(Vec::new());
        e.map(3).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("p").unwrap().bytes(b"a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("l"))
        );
        let mut e = Encoder::new(Vec::new());
        e.map(5).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(1).unwrap();
        e.str("l").unwrap().u32(1).unwrap();
        e.str("p").unwrap().bytes(b"a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("i"))
        );
    }

    proptest::proptest! {
        #[test]
        fn block_round_trips(f in 0u32..256, i in proptest::num::u32::ANY, p in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let msg = block_message(f, i, p.len() as u32, &p);
            let b = decode_block(&msg).unwrap();
            proptest::prop_assert_eq!((b.file_id, b.index, b.length, b.payload), (f, i, p.len() as u32, &p[..]));
        }

        #[test]
        fn request_decodes_back(f in 0u32..256, l in 256u32..131073, o in proptest::num::u32::ANY, n in 1u32..99999,
                                b in proptest::collection::vec(proptest::num::u8::ANY, 1..33)) {
            let req = StreamRequest { client_token: CLIENT_TOKEN, file_id: f, block_size: l, offset: o, bitmap: &b, count: n };
            let msg = encode(&req);
            let mut d = Decoder::new(&msg);
            proptest::prop_assert_eq!(d.map().unwrap(), Some(6));
            for (key, value) in [("c", None), ("f", Some(f)), ("l", Some(l)), ("o", Some(o)), ("b", None), ("n", Some(n))] {
                proptest::prop_assert_eq!(d.str().unwrap(), key);
                match (key, value) {
                    ("c", _) => proptest::prop_assert_eq!(d.str().unwrap(), CLIENT_TOKEN),
                    ("b", _) => proptest::prop_assert_eq!(d.bytes().unwrap(), &b[..]),
                    (_, Some(v)) => proptest::prop_assert_eq!(d.u32().unwrap(), v),
                    _ => unreachable!(),
                }
            }
            proptest::prop_assert_eq!(d.position(), msg.len());
        }

        #[test]
        fn decode_never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = decode_block(&input);
        }

        #[test]
        fn decode_never_panics_on_mutations(pos in 0usize..40, byte in proptest::num::u8::ANY) {
            let mut msg = block_message(1, 2, 8, b"abcdefgh");
            let at = pos % msg.len();
            msg[at] = byte;
            let _ = decode_block(&msg);
        }
    }
}
