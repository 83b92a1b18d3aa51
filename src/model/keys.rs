//! Where a user's registry entry lives: its Redis key, its hash slot, its shard.
//!
//! Redis Cluster maps a key to one of 16,384 slots by CRC16 (XMODEM) of the key, or of the
//! part between the first `{` and the next `}` when that part is non-empty (a hash tag),
//! and each primary owns a contiguous range of slots. Which key a user's entry is written
//! under decides whether the load spreads at all: `HSET registry user:alice ...` writes
//! one key, so every write lands on one primary however many there are.

use crc::{CRC_16_XMODEM, Crc, Digest};

use crate::config::KeyLayout;

pub const HASH_SLOTS: u32 = 16_384;

const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// The slot of a key, hash tags honoured (Redis Cluster specification, "Keys hash tags").
pub fn slot_of(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    CRC16.checksum(hashed) % HASH_SLOTS as u16
}

/// Maps users to shards for one key layout and shard count.
pub struct ShardMap {
    layout: KeyLayout,
    /// The shard owning each slot: slots split into contiguous, near-equal ranges in order,
    /// as `redis-cli --cluster create` assigns them.
    shard_of_slot: Vec<u32>,
    /// Digest state after `registry:user:`, so a per-user key costs only its digits.
    per_user_prefix: Digest<'static, u16>,
    /// The shard of each bucket key `registry:{b}` (bucketed) or of `registry` (single).
    shard_of_bucket: Vec<u32>,
}

impl ShardMap {
    pub fn new(layout: KeyLayout, shards: u32) -> Self {
        let shard_of_slot = (0..HASH_SLOTS)
            .map(|slot| (u64::from(slot) * u64::from(shards) / u64::from(HASH_SLOTS)) as u32)
            .collect::<Vec<_>>();
        let mut per_user_prefix = CRC16.digest();
        per_user_prefix.update(b"registry:user:");
        let shard_of_bucket = match layout {
            KeyLayout::PerUser => Vec::new(),
            KeyLayout::Bucketed { buckets } => (0..buckets)
                .map(|b| shard_of_slot[slot_of(format!("registry:{{{b}}}").as_bytes()) as usize])
                .collect(),
            KeyLayout::SingleHash => vec![shard_of_slot[slot_of(b"registry") as usize]],
        };
        Self {
            layout,
            shard_of_slot,
            per_user_prefix,
            shard_of_bucket,
        }
    }

    /// The shard holding `user`'s entry.
    #[inline]
    pub fn shard_of(&self, user: u32) -> u32 {
        match self.layout {
            KeyLayout::PerUser => {
                let mut digest = self.per_user_prefix.clone();
                let mut digits = [0u8; 10];
                digest.update(decimal(user, &mut digits));
                self.shard_of_slot[(digest.finalize() % HASH_SLOTS as u16) as usize]
            }
            KeyLayout::Bucketed { buckets } => self.shard_of_bucket[(user % buckets) as usize],
            KeyLayout::SingleHash => self.shard_of_bucket[0],
        }
    }

    /// The share of users whose entries live on each shard, for spreading message lookups.
    ///
    /// Per-user keys are taken as spread over slots in proportion to each shard's slot
    /// range (CRC16 of distinct keys is close to uniform); bucketed and single-hash layouts
    /// are exact.
    pub fn user_shares(&self, shards: u32) -> Vec<f64> {
        let mut shares = vec![0.0; shards as usize];
        match self.layout {
            KeyLayout::PerUser => {
                for &shard in &self.shard_of_slot {
                    shares[shard as usize] += 1.0 / f64::from(HASH_SLOTS);
                }
            }
            KeyLayout::Bucketed { .. } | KeyLayout::SingleHash => {
                let weight = 1.0 / self.shard_of_bucket.len() as f64;
                for &shard in &self.shard_of_bucket {
                    shares[shard as usize] += weight;
                }
            }
        }
        shares
    }
}

/// Writes `value` in decimal into `buffer` and returns the digits.
#[inline]
fn decimal(mut value: u32, buffer: &mut [u8; 10]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buffer[start..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_redis_cluster_specification() {
        // The specification's worked example: CRC16("123456789") = 0x31C3.
        assert_eq!(CRC16.checksum(b"123456789"), 0x31C3);
        assert_eq!(slot_of(b"123456789"), 0x31C3);
        // Hash tags: only the part inside the first braces counts, unless it is empty.
        assert_eq!(slot_of(b"{user1000}.following"), slot_of(b"user1000"));
        assert_eq!(slot_of(b"foo{}{bar}"), slot_of(b"foo{}{bar}"));
        assert_ne!(slot_of(b"foo{}{bar}"), slot_of(b"bar"));
        assert_eq!(slot_of(b"foo{{bar}}zap"), slot_of(b"{bar"));
    }

    #[test]
    fn per_user_keys_hash_the_full_key() {
        let map = ShardMap::new(KeyLayout::PerUser, 16_384);
        for user in [0u32, 7, 12_345, u32::MAX] {
            let slot = slot_of(format!("registry:user:{user}").as_bytes());
            assert_eq!(map.shard_of(user), u32::from(slot));
        }
    }

    #[test]
    fn a_single_hash_puts_every_user_on_one_shard() {
        let map = ShardMap::new(KeyLayout::SingleHash, 500);
        let first = map.shard_of(0);
        assert!((1..10_000).all(|user| map.shard_of(user) == first));
        assert_eq!(map.user_shares(500)[first as usize], 1.0);
    }

    #[test]
    fn per_user_keys_spread_evenly() {
        let map = ShardMap::new(KeyLayout::PerUser, 10);
        let mut counts = [0u32; 10];
        for user in 0..100_000 {
            counts[map.shard_of(user) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }
}
