//! The resume record: where a download stands, saved through the
//! [`ProgressStore`](crate::ProgressStore) so that it continues after a reboot
//! or a power cut instead of starting over.
//!
//! It holds the job id, a fingerprint of the file (its signature, size, id and
//! type), the block size, and the number of blocks from the start of the file
//! that are written and durable. Records are only saved at erase-unit
//! boundaries, so a resumed download re-erases exactly the units that may hold
//! torn or unrecorded data and nothing below. A CRC-32 makes a torn record read
//! as no record.
//!
//! The same record marks an accepted image whose commit is in progress (see
//! [`Stage::Committing`]).
//!
//! Layout (little-endian): `"OTAr"`, version, stage, job id length, job id,
//! fingerprint (8), block size (4), next block (4), image version (4),
//! CRC-32 of all before (4).

use crate::MAX_JOB_ID_LEN;

/// The largest resume record.
pub const RESUME_RECORD_MAX: usize = HEAD_LEN + MAX_JOB_ID_LEN + FIELDS_LEN + 4;

/// Magic, version, stage, job id length.
const HEAD_LEN: usize = 4 + 3;
/// Fingerprint, block size, next block, image version.
const FIELDS_LEN: usize = 8 + 4 + 4 + 4;

const MAGIC: &[u8; 4] = b"OTAr";
const VERSION: u8 = 1;

/// What a record says about the update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Blocks below `next_block` are written.
    Downloading,
    /// The whole file is written and verified; activation is pending.
    Verified,
    /// The image passed its self test and SUCCEEDED is being reported; the
    /// commit follows its acknowledgement. If power is lost in between, the
    /// bootloader reverts at the next reset, and the agent applies the image
    /// again (`next_block` counts the attempts).
    Committing,
    /// The running image was rejected and a rollback requested. If a power
    /// loss interrupts the bootloader's revert so that the image still runs,
    /// the agent rejects it again (`next_block` counts the attempts).
    RollingBack,
}

/// A decoded record, borrowing the job id from the bytes it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    pub(crate) stage: Stage,
    pub(crate) job_id: &'a [u8],
    pub(crate) fingerprint: [u8; 8],
    pub(crate) block_size: u32,
    pub(crate) next_block: u32,
    /// The image's version, packed (for [`Stage::Committing`] and
    /// [`Stage::RollingBack`]).
    pub(crate) version: u32,
}

/// 8 bytes identifying the file (with the job id beside it in the record):
/// a CRC-32 of its signature, which is over its contents, and one of its
/// size, id and type.
pub(crate) fn fingerprint(
    signature: &[u8],
    file_size: u32,
    file_id: u8,
    file_type: u32,
) -> [u8; 8] {
    let mut meta = [0u8; 9];
    meta[..4].copy_from_slice(&file_size.to_le_bytes());
    meta[4] = file_id;
    meta[5..].copy_from_slice(&file_type.to_le_bytes());
    let mut f = [0u8; 8];
    f[..4].copy_from_slice(&crc32(signature).to_le_bytes());
    f[4..].copy_from_slice(&crc32(&meta).to_le_bytes());
    f
}

/// CRC-32 (IEEE 802.3, reflected), bitwise: records are small.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                crc >> 1 ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

impl<'a> Record<'a> {
    /// Serialise into `out`; the length.
    pub(crate) fn encode(&self, out: &mut [u8; RESUME_RECORD_MAX]) -> usize {
        let id = &self.job_id[..self.job_id.len().min(MAX_JOB_ID_LEN)];
        let mut n = 0;
        let mut put = |b: &[u8]| {
            out[n..n + b.len()].copy_from_slice(b);
            n += b.len();
        };
        put(MAGIC);
        put(&[
            VERSION,
            match self.stage {
                Stage::Downloading => 0,
                Stage::Verified => 1,
                Stage::Committing => 2,
                Stage::RollingBack => 3,
            },
            id.len() as u8,
        ]);
        put(id);
        put(&self.fingerprint);
        put(&self.block_size.to_le_bytes());
        put(&self.next_block.to_le_bytes());
        put(&self.version.to_le_bytes());
        let crc = crc32(&out[..n]);
        out[n..n + 4].copy_from_slice(&crc.to_le_bytes());
        n + 4
    }

    /// Parse a record; `None` if it is torn, foreign or from another version.
    pub(crate) fn decode(bytes: &'a [u8]) -> Option<Self> {
        let (body, crc) = bytes.split_last_chunk::<4>()?;
        if crc32(body) != u32::from_le_bytes(*crc) {
            return None;
        }
        let (head, rest) = body.split_first_chunk::<HEAD_LEN>()?;
        let [m0, m1, m2, m3, version, stage, id_len] = *head;
        if [m0, m1, m2, m3] != *MAGIC || version != VERSION || id_len as usize > MAX_JOB_ID_LEN {
            return None;
        }
        let stage = match stage {
            0 => Stage::Downloading,
            1 => Stage::Verified,
            2 => Stage::Committing,
            3 => Stage::RollingBack,
            _ => return None,
        };
        let (job_id, fields) = rest.split_at_checked(id_len as usize)?;
        let (fingerprint, words) = fields.split_first_chunk::<8>()?;
        let words: &[u8; 12] = words.try_into().ok()?;
        let word = |at: usize| {
            u32::from_le_bytes([words[at], words[at + 1], words[at + 2], words[at + 3]])
        };
        Some(Record {
            stage,
            job_id,
            fingerprint: *fingerprint,
            block_size: word(0),
            next_block: word(4),
            version: word(8),
        })
    }
}

/// What a saved resume record says (for tools: `otactl`, the simulator).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumePoint<'a> {
    /// The job the record belongs to.
    pub job_id: &'a [u8],
    /// Block size the download used.
    pub block_size: u32,
    /// Blocks from the start of the file that are written and durable.
    pub next_block: u32,
    /// Where the update stands.
    pub stage: Stage,
}

/// Read a record saved through the [`ProgressStore`](crate::ProgressStore);
/// `None` if it is torn or not a record.
pub fn read_resume_record(bytes: &[u8]) -> Option<ResumePoint<'_>> {
    Record::decode(bytes).map(|r| ResumePoint {
        job_id: r.job_id,
        block_size: r.block_size,
        next_block: r.next_block,
        stage: r.stage,
    })
}

/// The resume decision for a job about to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Continue: blocks below this one are in the slot.
    Resume(u32),
    /// The file is already complete and verified.
    Verified,
    /// Start from block 0; the text says why when there was a record.
    Fresh(Option<&'static str>),
}

/// Compare a stored record with the job at hand.
pub(crate) fn decide(
    stored: Option<&[u8]>,
    job_id: &str,
    fingerprint: &[u8; 8],
    block_size: u32,
    total_blocks: u32,
) -> Decision {
    let Some(bytes) = stored else {
        return Decision::Fresh(None);
    };
    let Some(r) = Record::decode(bytes) else {
        return Decision::Fresh(Some("record unreadable"));
    };
    if r.job_id != job_id.as_bytes() {
        return Decision::Fresh(Some("record for another job"));
    }
    if &r.fingerprint != fingerprint {
        return Decision::Fresh(Some("record for another file"));
    }
    if r.block_size != block_size || r.next_block > total_blocks {
        return Decision::Fresh(Some("record for another block size"));
    }
    match r.stage {
        Stage::Verified => Decision::Verified,
        Stage::Downloading => Decision::Resume(r.next_block),
        Stage::Committing | Stage::RollingBack => Decision::Fresh(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(stage: Stage, next: u32) -> ([u8; RESUME_RECORD_MAX], usize) {
        let r = Record {
            stage,
            job_id: b"job-1",
            fingerprint: fingerprint(b"sig", 1000, 0, 0),
            block_size: 4096,
            next_block: next,
            version: 0,
        };
        let mut buf = [0u8; RESUME_RECORD_MAX];
        let n = r.encode(&mut buf);
        (buf, n)
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn round_trips_and_decides() {
        let fp = fingerprint(b"sig", 1000, 0, 0);
        let (buf, n) = record(Stage::Downloading, 7);
        let r = Record::decode(&buf[..n]).unwrap();
        assert_eq!(
            (r.job_id, r.next_block, r.stage),
            (&b"job-1"[..], 7, Stage::Downloading)
        );
        assert_eq!(
            decide(Some(&buf[..n]), "job-1", &fp, 4096, 10),
            Decision::Resume(7)
        );
        assert_eq!(decide(None, "job-1", &fp, 4096, 10), Decision::Fresh(None));
        assert_eq!(
            decide(Some(&buf[..n]), "job-2", &fp, 4096, 10),
            Decision::Fresh(Some("record for another job"))
        );
        let other = fingerprint(b"sig2", 1000, 0, 0);
        assert_eq!(
            decide(Some(&buf[..n]), "job-1", &other, 4096, 10),
            Decision::Fresh(Some("record for another file"))
        );
        assert_eq!(
            decide(Some(&buf[..n]), "job-1", &fp, 1024, 10),
            Decision::Fresh(Some("record for another block size"))
        );
        assert_eq!(
            decide(Some(&buf[..n]), "job-1", &fp, 4096, 5),
            Decision::Fresh(Some("record for another block size"))
        );
        let (buf, n) = record(Stage::Verified, 10);
        assert_eq!(
            decide(Some(&buf[..n]), "job-1", &fp, 4096, 10),
            Decision::Verified
        );
    }

    #[test]
    fn any_torn_or_flipped_record_is_unreadable() {
        let fp = fingerprint(b"sig", 1000, 0, 0);
        let (buf, n) = record(Stage::Downloading, 7);
        for len in 0..n {
            assert_eq!(
                decide(Some(&buf[..len]), "job-1", &fp, 4096, 10),
                Decision::Fresh(Some("record unreadable"))
            );
        }
        for byte in 0..n {
            for bit in 0..8 {
                let mut bad = buf;
                bad[byte] ^= 1 << bit;
                assert!(Record::decode(&bad[..n]).is_none(), "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn the_longest_record_fits() {
        let id = [b'x'; MAX_JOB_ID_LEN];
        let r = Record {
            stage: Stage::Downloading,
            job_id: &id,
            fingerprint: [0; 8],
            block_size: 1,
            next_block: 2,
            version: 3,
        };
        let mut buf = [0u8; RESUME_RECORD_MAX];
        assert_eq!(r.encode(&mut buf), RESUME_RECORD_MAX);
        assert_eq!(Record::decode(&buf).unwrap().job_id, &id[..]);
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let _ = Record::decode(&input);
        }
    }
}
