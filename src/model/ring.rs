//! A consistent-hash ring: which connection server holds a user, computed from the user's
//! id alone, so the router needs no registry (`registry.strategy = "placement"`).
//!
//! Each server owns `virtual_nodes` points on a 64-bit ring; a user belongs to the server
//! of the first point at or after the user's hash, wrapping past the top. 160 points per
//! server is the default of the common ketama implementations (libketama and the
//! memcached clients derived from it take 40 MD5 digests of 4 points each per server).
//! With `V` points per server a server's share of the ring is close to a sum of `V`
//! exponential arcs, so shares vary by about `1/√V` of the mean (7.9% for 160).
//!
//! Positions come from SplitMix64's output function (Steele, Lea and Flood, "Fast
//! splittable pseudorandom number generators", OOPSLA 2014; Vigna's `splitmix64.c`), a
//! portable bijection of `u64` fully specified below, never from std's `DefaultHasher`,
//! whose algorithm is not guaranteed across Rust releases. A server's point hashes
//! `server << 32 | vnode`, a user hashes `1 << 63 | user`: the inputs never coincide and
//! the mix is a bijection, so no user hash equals a point's position by construction.
//!
//! A server taken down keeps its points; lookups skip them to the next live point, so
//! only that server's users move, and each to the server that follows its point.

/// A user's hash input has this bit set; a server point's never does (servers < 2^16).
const USER_DOMAIN: u64 = 1 << 63;

/// SplitMix64's output function: a bijection of `u64` that mixes every input bit into
/// every output bit.
pub fn mix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The ring of every server's points, and which servers are down.
#[derive(Debug, Clone)]
pub struct Ring {
    /// `(position, server)` of every point, sorted; ties (never seen, but possible) go to
    /// the lower server number, so the order never depends on the sort's internals.
    points: Vec<(u64, u32)>,
    down: Vec<bool>,
    live: u32,
}

impl Ring {
    /// A ring of `servers` servers (at most 65,535), each with `virtual_nodes` points, all
    /// live.
    pub fn new(servers: u32, virtual_nodes: u32) -> Self {
        assert!((1..=u32::from(u16::MAX)).contains(&servers) && virtual_nodes >= 1);
        let mut points: Vec<(u64, u32)> = (0..servers)
            .flat_map(|server| {
                (0..virtual_nodes).map(move |vnode| {
                    let input = (u64::from(server) << 32) | u64::from(vnode);
                    (mix64(input), server)
                })
            })
            .collect();
        points.sort_unstable();
        Self {
            points,
            down: vec![false; servers as usize],
            live: servers,
        }
    }

    /// Marks `server` down: from now on its users map to the next live point's server.
    pub fn set_down(&mut self, server: u32) {
        let down = &mut self.down[server as usize];
        if !*down {
            *down = true;
            self.live -= 1;
        }
    }

    /// Marks `server` live again: its users come back to it.
    pub fn set_up(&mut self, server: u32) {
        let down = &mut self.down[server as usize];
        if *down {
            *down = false;
            self.live += 1;
        }
    }

    /// The live server that holds `user`.
    ///
    /// # Panics
    ///
    /// If every server is down: there is nowhere to place the user.
    pub fn server_of(&self, user: u32) -> u32 {
        assert!(self.live > 0, "every server of the ring is down");
        let hash = mix64(USER_DOMAIN | u64::from(user));
        let first = self
            .points
            .partition_point(|&(position, _)| position < hash);
        let wrapped = self.points[first..].iter().chain(&self.points[..first]);
        wrapped
            .map(|&(_, server)| server)
            .find(|&server| !self.down[server as usize])
            .expect("a live server has points on the ring")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(ring: &Ring, servers: u32, users: u32) -> Vec<u32> {
        let mut counts = vec![0u32; servers as usize];
        for user in 0..users {
            counts[ring.server_of(user) as usize] += 1;
        }
        counts
    }

    #[test]
    fn mix_is_pinned() {
        // SplitMix64 seeded with 0 yields this as its first output (splitmix64.c).
        assert_eq!(mix64(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn placement_is_deterministic_and_pinned() {
        let ring = Ring::new(10, 160);
        let again = Ring::new(10, 160);
        let first: Vec<u32> = (0..8).map(|u| ring.server_of(u)).collect();
        let second: Vec<u32> = (0..8).map(|u| again.server_of(u)).collect();
        assert_eq!(first, second);
        assert_eq!(first, PINNED);
    }

    /// Servers of users 0 to 7 on a ring of 10 servers of 160 points: any change to the
    /// hash or the lookup moves them.
    const PINNED: [u32; 8] = [5, 5, 5, 2, 1, 7, 3, 9];

    #[test]
    fn a_server_taken_down_only_moves_its_own_users() {
        let users = 100_000;
        let mut ring = Ring::new(20, 160);
        let before: Vec<u32> = (0..users).map(|u| ring.server_of(u)).collect();
        ring.set_down(7);
        for (user, &was) in before.iter().enumerate() {
            let now = ring.server_of(user as u32);
            if was == 7 {
                assert_ne!(now, 7);
            } else {
                assert_eq!(now, was, "user {user} moved off a live server");
            }
        }

        ring.set_up(7);
        let after: Vec<u32> = (0..users).map(|u| ring.server_of(u)).collect();
        assert_eq!(after, before);
    }

    #[test]
    fn a_down_servers_users_spread_over_the_others() {
        // Its 160 arcs are each taken over by the server of the next point, so its users
        // go to many servers, not to one neighbour.
        let mut ring = Ring::new(20, 160);
        let own: Vec<u32> = (0..100_000).filter(|&u| ring.server_of(u) == 3).collect();
        ring.set_down(3);
        let mut heirs: Vec<u32> = own.iter().map(|&u| ring.server_of(u)).collect();
        heirs.sort_unstable();
        heirs.dedup();
        assert!(heirs.len() >= 15, "{heirs:?}");
    }

    #[test]
    fn spread_is_within_the_vnode_tolerance() {
        // A server's share is about Gamma(V, 1/(N V)): relative standard deviation 1/√V
        // (7.9% for 160), plus the users' binomial noise √(N/U) (1%). Four standard
        // deviations bound every one of 100 servers (probability of a breach about 0.6%
        // for a random ring; this one is fixed), and the sample spread of 100 shares has
        // a relative error of about 1/√198 (7%), so ±30% is again four of them.
        let (servers, vnodes, users) = (100, 160, 1_000_000);
        let counts = spread(&Ring::new(servers, vnodes), servers, users);
        let mean = f64::from(users) / f64::from(servers);
        let sigma = (1.0 / f64::from(vnodes) + f64::from(servers) / f64::from(users)).sqrt();
        for (server, &count) in counts.iter().enumerate() {
            let relative = f64::from(count) / mean - 1.0;
            assert!(relative.abs() < 4.0 * sigma, "server {server}: {relative}");
        }
        let variance = counts
            .iter()
            .map(|&c| (f64::from(c) / mean - 1.0).powi(2))
            .sum::<f64>()
            / f64::from(servers - 1);
        let ratio = variance.sqrt() / sigma;
        assert!(
            (0.7..1.3).contains(&ratio),
            "spread {ratio} of the expected"
        );
    }

    #[test]
    #[should_panic(expected = "every server of the ring is down")]
    fn no_live_server_is_an_error() {
        let mut ring = Ring::new(2, 4);
        ring.set_down(0);
        ring.set_down(1);
        ring.server_of(0);
    }
}
