//! Streams (MQTT-based file delivery): stream id → files (file id → bytes),
//! and the GetStream semantics (PROTOCOL.md §5, §12).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rumqttc::QoS;
use serde::Serialize;

use super::cbor::{self, GetStreamRequest, StreamError, StreamErrorCode};
use super::error::{validate_name, ServiceError};
use super::message::{MessageKind, Outgoing};
use super::topics;

/// At most this many bytes of block data answer one GetStream request.
pub const MAX_DATA_PER_REQUEST: usize = 128 * 1024;
/// The longest stream id AWS IoT accepts.
const MAX_STREAM_ID: usize = 128;

/// A stream as the admin API lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreamInfo {
    /// The stream id.
    pub stream_id: String,
    /// 1 at creation, bumped each time the stream is replaced.
    pub version: u64,
    /// File id → size in bytes.
    pub files: BTreeMap<u8, usize>,
}

struct Stream {
    version: u64,
    files: BTreeMap<u8, Arc<[u8]>>,
}

/// Every stream.
#[derive(Default)]
pub(crate) struct StreamStore {
    streams: HashMap<String, Stream>,
}

impl StreamStore {
    /// Creates the stream, or replaces its files and bumps its version.
    pub fn create(
        &mut self,
        stream_id: &str,
        files: BTreeMap<u8, Vec<u8>>,
    ) -> Result<StreamInfo, ServiceError> {
        validate_name("stream id", stream_id, MAX_STREAM_ID, "")?;
        let version = self.streams.get(stream_id).map_or(1, |s| s.version + 1);
        let files: BTreeMap<u8, Arc<[u8]>> = files
            .into_iter()
            .map(|(id, data)| (id, data.into()))
            .collect();
        self.streams
            .insert(stream_id.to_owned(), Stream { version, files });
        Ok(self.info(stream_id).expect("just inserted"))
    }

    /// A stream's id, version and file sizes.
    pub fn info(&self, stream_id: &str) -> Option<StreamInfo> {
        let stream = self.streams.get(stream_id)?;
        Some(StreamInfo {
            stream_id: stream_id.to_owned(),
            version: stream.version,
            files: stream
                .files
                .iter()
                .map(|(id, data)| (*id, data.len()))
                .collect(),
        })
    }

    /// The bytes of one file.
    pub fn file(&self, stream_id: &str, file_id: u8) -> Option<Arc<[u8]>> {
        self.streams.get(stream_id)?.files.get(&file_id).cloned()
    }

    /// Answers a GetStream request from `thing`: one data message per block,
    /// or one rejected message.
    pub fn handle_get(&self, thing: &str, stream_id: &str, payload: &[u8]) -> Vec<Outgoing> {
        let result = cbor::decode_get_stream(payload).and_then(|request| {
            let data = self.lookup(stream_id, &request)?;
            let blocks = select_blocks(&request, data.len())?;
            Ok((request, data, blocks))
        });
        match result {
            Ok((request, data, blocks)) => blocks
                .into_iter()
                .map(|index| {
                    let start = index as usize * request.block_size as usize;
                    let end = (start + request.block_size as usize).min(data.len());
                    Outgoing {
                        topic: topics::stream_data(thing, stream_id),
                        payload: cbor::encode_block(
                            request.client_token.as_deref(),
                            request.file_id,
                            index,
                            &data[start..end],
                        ),
                        qos: QoS::AtMostOnce,
                        thing: thing.to_owned(),
                        kind: MessageKind::StreamData {
                            stream: stream_id.to_owned(),
                            file: request.file_id,
                            block: index,
                            len: end - start,
                        },
                    }
                })
                .collect(),
            Err(error) => vec![Outgoing {
                topic: topics::stream_rejected(thing, stream_id),
                payload: cbor::encode_rejected(&error),
                qos: QoS::AtMostOnce,
                thing: thing.to_owned(),
                kind: MessageKind::StreamRejected {
                    stream: stream_id.to_owned(),
                    code: error.code.as_str(),
                },
            }],
        }
    }

    fn lookup(
        &self,
        stream_id: &str,
        request: &GetStreamRequest,
    ) -> Result<Arc<[u8]>, StreamError> {
        let fail = |code, message: String| StreamError {
            code,
            message,
            client_token: request.client_token.clone(),
        };
        let stream = self.streams.get(stream_id).ok_or_else(|| {
            fail(
                StreamErrorCode::ResourceNotFound,
                format!("no stream {stream_id}"),
            )
        })?;
        if let Some(version) = request.version.filter(|v| *v != stream.version) {
            return Err(fail(
                StreamErrorCode::VersionMismatch,
                format!(
                    "stream version {version} requested, the stream is at {}",
                    stream.version
                ),
            ));
        }
        stream.files.get(&request.file_id).cloned().ok_or_else(|| {
            fail(
                StreamErrorCode::ResourceNotFound,
                format!("no file {} in stream {stream_id}", request.file_id),
            )
        })
    }
}

/// The blocks that answer `request` for a file of `file_len` bytes, in
/// increasing order: with a bitmap, the wanted blocks from `o` on, at most
/// `n`; without, `n` blocks from `o`; `n` defaults to 131072 / `l`; never
/// more than 128 KiB of data.
fn select_blocks(request: &GetStreamRequest, file_len: usize) -> Result<Vec<u32>, StreamError> {
    let block_size = request.block_size as usize;
    let file_blocks = file_len.div_ceil(block_size);
    let offset = request.offset as usize;
    if offset >= file_blocks {
        return Err(StreamError {
            code: StreamErrorCode::OffsetOutOfBounds,
            message: format!("block {offset} is past the end of the file ({file_blocks} blocks)"),
            client_token: request.client_token.clone(),
        });
    }
    let limit = request
        .count
        .map_or(MAX_DATA_PER_REQUEST / block_size, |n| n as usize);
    let wanted: Box<dyn Iterator<Item = usize>> = match &request.bitmap {
        Some(bitmap) => Box::new(
            (0..bitmap.len() * 8)
                .filter(move |k| bitmap[k / 8] & (1 << (k % 8)) != 0)
                .map(move |k| offset + k),
        ),
        None => Box::new(offset..),
    };
    let mut budget = MAX_DATA_PER_REQUEST;
    let mut blocks = Vec::new();
    for index in wanted.take_while(|i| *i < file_blocks).take(limit) {
        let len = block_size.min(file_len - index * block_size);
        if len > budget {
            break;
        }
        budget -= len;
        blocks.push(index as u32);
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        block_size: u32,
        offset: u32,
        count: Option<u32>,
        bitmap: Option<&[u8]>,
    ) -> GetStreamRequest {
        GetStreamRequest {
            client_token: None,
            version: None,
            file_id: 0,
            block_size,
            offset,
            count,
            bitmap: bitmap.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn bitmap_offset_and_count() {
        // 10 blocks of 256 bytes, the last one short.
        let len = 9 * 256 + 10;
        assert_eq!(
            select_blocks(&request(256, 0, None, Some(&[0b1010_0101])), len).unwrap(),
            [0, 2, 5, 7]
        );
        assert_eq!(
            select_blocks(&request(256, 0, Some(2), Some(&[0b1010_0101])), len).unwrap(),
            [0, 2]
        );
        assert_eq!(
            select_blocks(&request(256, 2, None, Some(&[0b1000_0011])), len).unwrap(),
            [2, 3, 9]
        );
        // Bits past the end of the file are ignored.
        assert_eq!(
            select_blocks(&request(256, 3, None, Some(&[0b0000_0011, 0xff])), len).unwrap(),
            [3, 4]
        );
        assert_eq!(
            select_blocks(&request(256, 8, Some(5), None), len).unwrap(),
            [8, 9]
        );
        assert_eq!(
            select_blocks(&request(256, 1, Some(3), None), len).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(
            select_blocks(&request(256, 0, None, Some(&[0])), len).unwrap(),
            Vec::<u32>::new()
        );
        let err = select_blocks(&request(256, 10, None, None), len).unwrap_err();
        assert_eq!(err.code, StreamErrorCode::OffsetOutOfBounds);
    }

    #[test]
    fn data_is_capped_at_128_kib() {
        let len = 1 << 20;
        let blocks = select_blocks(&request(4096, 0, Some(100), None), len).unwrap();
        assert_eq!(blocks.len(), 32);
        let blocks = select_blocks(&request(1000, 0, None, Some(&[0xff; 32])), len).unwrap();
        assert_eq!(blocks.len(), 131, "131 × 1000 ≤ 131072 < 132 × 1000");
        // A short last block still fits when a full one would not.
        let blocks = select_blocks(&request(65536, 0, Some(3), None), 65536 + 100).unwrap();
        assert_eq!(blocks, [0, 1]);
        let blocks = select_blocks(&request(131072, 0, Some(3), None), 3 * 131072).unwrap();
        assert_eq!(blocks, [0]);
    }

    /// Mutated and random requests: never a panic, always data or an error,
    /// never more than 128 KiB.
    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut store = StreamStore::default();
        store
            .create("S", BTreeMap::from([(0, vec![7; 5000])]))
            .unwrap();
        // {c:"rdy", f:0, l:256, o:0, b:h'ffff', n:4}
        let valid = [
            0xa6, 0x61, 0x63, 0x63, 0x72, 0x64, 0x79, 0x61, 0x66, 0x00, 0x61, 0x6c, 0x19, 0x01,
            0x00, 0x61, 0x6f, 0x00, 0x61, 0x62, 0x42, 0xff, 0xff, 0x61, 0x6e, 0x04,
        ];
        assert_eq!(store.handle_get("t", "S", &valid).len(), 4);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..20_000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let mut bytes = valid.to_vec();
                for _ in 0..1 + next() % 3 {
                    let at = (next() % bytes.len() as u64) as usize;
                    bytes[at] = next() as u8;
                }
                bytes
            } else {
                (0..next() % 40).map(|_| next() as u8).collect()
            };
            let out = store.handle_get("t", "S", &bytes);
            let data: usize = out
                .iter()
                .map(|o| match &o.kind {
                    MessageKind::StreamData { len, .. } => *len,
                    MessageKind::StreamRejected { .. } => {
                        assert_eq!(out.len(), 1);
                        0
                    }
                    other => panic!("unexpected {other:?}"),
                })
                .sum();
            assert!(data <= MAX_DATA_PER_REQUEST);
        }
    }
}
