//! Where a user's registry entry lives: its Redis key, its hash slot, its shard.
//!
//! Redis Cluster maps a key to one of 16,384 slots by CRC16 (XMODEM) of the key, or of the
//! part between the first `{` and the next `}` when that part is non-empty (a hash tag),
//! and each primary owns a contiguous range of slots. Which key a user's entry is written
//! under decides whether the load spreads at all: `HSET registry user:alice ...` writes
//! one key, so every write lands on one primary however many there are.

use crc::{CRC_16_XMODEM, Crc};

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
    /// The CRC16 of per-user keys, digit pair by digit pair (see [`PerUserCrc`]).
    per_user: PerUserCrc,
    /// The shard of each bucket key `registry:{b}` (bucketed) or of `registry` (single).
    shard_of_bucket: Vec<u32>,
}

impl ShardMap {
    pub fn new(layout: KeyLayout, shards: u32) -> Self {
        let shard_of_slot = (0..HASH_SLOTS)
            .map(|slot| (u64::from(slot) * u64::from(shards) / u64::from(HASH_SLOTS)) as u32)
            .collect::<Vec<_>>();
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
            per_user: PerUserCrc::new(PER_USER_PREFIX),
            shard_of_bucket,
        }
    }

    /// The shard holding `user`'s entry.
    #[inline]
    pub fn shard_of(&self, user: u32) -> u32 {
        match self.layout {
            KeyLayout::PerUser => {
                self.shard_of_slot[(self.per_user.checksum(user) % HASH_SLOTS as u16) as usize]
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

/// The key prefix of the `per-user` layout; the user id follows in decimal.
const PER_USER_PREFIX: &[u8] = b"registry:user:";

/// CRC16 (XMODEM) of `<prefix><user id in decimal>`, without writing the key out.
///
/// Every write hashes its user's key, so this is on the hot path. XMODEM starts from zero
/// and adds nothing at the end, so for messages of one length the CRC is linear: the CRC
/// of `a XOR b` is the CRC of `a` XOR the CRC of `b`, and zero bytes in front change
/// nothing. A key of `n` digits is then the key of `n` zeros (`'0'`, whose CRC is
/// tabled per length) XOR, digit pair by digit pair, each pair's value above `'0'`
/// followed by the bytes after it (tabled per position and value): at most five lookups
/// instead of a byte-by-byte pass over the digits.
struct PerUserCrc {
    /// CRC of the prefix followed by `n` `'0'` digits, for `n` from 0 to 10.
    zeros: [u16; 11],
    /// CRC of the two bytes `[v / 10, v % 10]` followed by `2k` zero bytes, for pair
    /// position `k` (from the last digits) and value `v` below 100.
    pairs: [[u16; 100]; 5],
}

impl PerUserCrc {
    fn new(prefix: &[u8]) -> Self {
        let zeros = std::array::from_fn(|n| {
            let mut key = prefix.to_vec();
            key.extend(std::iter::repeat_n(b'0', n));
            CRC16.checksum(&key)
        });
        let pairs = std::array::from_fn(|k| {
            std::array::from_fn(|v| {
                let mut bytes = vec![(v / 10) as u8, (v % 10) as u8];
                bytes.extend(std::iter::repeat_n(0, 2 * k));
                CRC16.checksum(&bytes)
            })
        });
        Self { zeros, pairs }
    }

    #[inline]
    fn checksum(&self, user: u32) -> u16 {
        let digits = user.checked_ilog10().map_or(1, |log| log + 1);
        let mut crc = self.zeros[digits as usize];
        let mut rest = user;
        for pair in &self.pairs {
            if rest == 0 {
                break;
            }
            crc ^= pair[(rest % 100) as usize];
            rest /= 100;
        }
        crc
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
    fn the_tabled_crc_is_the_crc_of_the_written_key() {
        let crc = PerUserCrc::new(PER_USER_PREFIX);
        let mut users: Vec<u32> = (0..200_000).collect();
        // Every length, with each digit's extremes, and a spread of large ids.
        for digits in 1..=10u32 {
            let low = 10u64.pow(digits - 1);
            let high = (10u64.pow(digits) - 1).min(u64::from(u32::MAX));
            users.extend([low as u32, high as u32, (low + high) as u32 / 2]);
        }
        users.extend((0..200_000u32).map(|i| i.wrapping_mul(2_654_435_761)));
        users.push(u32::MAX);
        for user in users {
            let key = format!("registry:user:{user}");
            assert_eq!(crc.checksum(user), CRC16.checksum(key.as_bytes()), "{user}");
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
