//! Sync and relay decisions as plain logic, driven by the peer manager and by tests without
//! sockets: block locators, the peer to sync from, the relay seen-set, and ban rules.

use oxcoin::ErrorCode;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

/// How long a peer that sent invalid data stays banned.
pub const BAN_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The heights of a block locator for a chain whose tip is at `tip`: the last 10 one by one,
/// then steps doubling back, and always genesis (Bitcoin's `GetLocator`).
pub fn locator_heights(tip: u64) -> Vec<u64> {
    let mut heights = Vec::new();
    let mut height = tip;
    let mut step = 1u64;
    loop {
        heights.push(height);
        if height == 0 {
            break;
        }
        if heights.len() >= 10 {
            step = step.saturating_mul(2);
        }
        height = height.saturating_sub(step);
    }
    heights
}

/// What the manager knows of a peer's chain, for choosing whom to sync from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerTip {
    /// The peer's URL.
    pub url: String,
    /// Its chain work, big-endian bytes.
    pub chain_work: [u8; 32],
}

/// Picks the peer with the most chain work, if it has more than `ours`; the first listed wins
/// a tie.
pub fn pick_sync_peer<'a>(peers: &'a [PeerTip], ours: &[u8; 32]) -> Option<&'a PeerTip> {
    let mut best: Option<&PeerTip> = None;
    for peer in peers.iter().filter(|p| p.chain_work > *ours) {
        if best.is_none_or(|b| peer.chain_work > b.chain_work) {
            best = Some(peer);
        }
    }
    best
}

/// A bounded set of items already seen, forgetting the oldest first: each block or transfer is
/// relayed once.
#[derive(Debug)]
pub struct SeenSet<T> {
    set: HashSet<T>,
    order: VecDeque<T>,
    capacity: usize,
}

impl<T: Eq + Hash + Clone> SeenSet<T> {
    /// An empty set remembering at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { set: HashSet::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Records `item`; returns whether it is new (and so should be relayed).
    pub fn insert(&mut self, item: T) -> bool {
        if self.set.contains(&item) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(item.clone());
        self.order.push_back(item);
        true
    }

    /// Returns whether `item` was seen.
    pub fn contains(&self, item: &T) -> bool {
        self.set.contains(item)
    }

    /// The number of remembered items.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Returns whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Whether a peer that sent a block the chain refused with `code` should be banned: yes for
/// every rule the block itself breaks (`code` is some), never for our own store errors (`None`).
/// Orphans and known blocks are not refusals at all.
pub fn bans_for_block(code: Option<ErrorCode>) -> bool {
    code.is_some()
}

/// Whether a peer that relayed a transfer refused with `code` should be banned: only for faults
/// of the transfer itself, never for those a relay race or another mempool explains
/// (duplicates, nonces, balances, a full mempool) nor for our own errors.
pub fn bans_for_transfer(code: Option<ErrorCode>) -> bool {
    matches!(
        code,
        Some(
            ErrorCode::Malformed
                | ErrorCode::WrongChain
                | ErrorCode::MemoTooLong
                | ErrorCode::InvalidMemo
                | ErrorCode::ZeroAmount
                | ErrorCode::FeeTooLow
                | ErrorCode::InvalidSignature
        )
    )
}

/// Who is banned, and until when (Unix seconds, so the list survives a restart). A key is a
/// peer URL (`http://host:port`) for data from a peer we connected to or whose claimed URL
/// matches its connection, or [`ip_key`] for data from an address that claimed nothing usable.
#[derive(Debug, Default)]
pub struct BanList {
    until: HashMap<String, u64>,
}

impl BanList {
    /// A list holding `entries` (key, until), those already over dropped.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, u64)>, now: u64) -> Self {
        Self { until: entries.into_iter().filter(|(_, until)| *until > now).collect() }
    }

    /// Bans `key` for [`BAN_DURATION`] from `now`.
    pub fn ban(&mut self, key: &str, now: u64) {
        self.until.insert(key.to_owned(), now.saturating_add(BAN_DURATION.as_secs()));
    }

    /// Returns whether `key` is banned at `now` (forgetting bans that ran out).
    pub fn is_banned(&mut self, key: &str, now: u64) -> bool {
        self.until.retain(|_, until| *until > now);
        self.until.contains_key(key)
    }

    /// The bans in force at `now`, sorted by key.
    pub fn entries(&mut self, now: u64) -> Vec<(String, u64)> {
        self.until.retain(|_, until| *until > now);
        let mut entries: Vec<(String, u64)> = self.until.iter().map(|(k, v)| (k.clone(), *v)).collect();
        entries.sort();
        entries
    }
}

/// The ban key of a connection's address, for data whose sender cannot be named by URL.
pub fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

/// Whether a relayed item's claimed sender URL (already normalized) can be believed: its host
/// must be the connection's address written as an IP (or `localhost` for a loopback
/// connection). Otherwise anyone could send junk in an honest peer's name and get it banned.
pub fn sender_matches(url: &str, connection: IpAddr) -> bool {
    let Some(host) = url.strip_prefix("http://").and_then(|rest| rest.rsplit_once(':')).map(|(host, _)| host) else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return connection.is_loopback();
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.parse::<IpAddr>().is_ok_and(|ip| ip == connection || ip.to_canonical() == connection.to_canonical())
}

/// Normalizes a peer URL: `http://host:port` without a trailing slash.
///
/// # Errors
/// A message naming what is wrong: another scheme, no port, or a path.
pub fn normalize_peer_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("url: expected http://host:port, got {url:?}"))?;
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| format!("url: no port in {url:?}"))?;
    if host.is_empty() || host.contains('/') || host.contains('@') || host.chars().any(char::is_whitespace) {
        return Err(format!("url: bad host in {url:?}"));
    }
    port.parse::<u16>().map_err(|_| format!("url: bad port in {url:?}"))?;
    Ok(format!("http://{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_takes_ten_then_doubles_back_to_genesis() {
        assert_eq!(locator_heights(0), vec![0]);
        assert_eq!(locator_heights(5), vec![5, 4, 3, 2, 1, 0]);
        let l = locator_heights(100);
        assert_eq!(&l[..10], &[100, 99, 98, 97, 96, 95, 94, 93, 92, 91]);
        assert_eq!(&l[10..], &[89, 85, 77, 61, 29, 0]);
        let long = locator_heights(1_000_000);
        assert!(long.len() < 40, "{}", long.len());
        assert_eq!(long.last(), Some(&0));
        assert!(long.windows(2).all(|w| w[0] > w[1]));
    }

    fn tip(url: &str, work: u8) -> PeerTip {
        let mut chain_work = [0u8; 32];
        chain_work[31] = work;
        PeerTip { url: url.into(), chain_work }
    }

    #[test]
    fn sync_peer_is_the_one_with_most_work_above_ours() {
        let ours = tip("me", 5).chain_work;
        assert_eq!(pick_sync_peer(&[tip("a", 3), tip("b", 5)], &ours), None);
        let peers = [tip("a", 7), tip("b", 9), tip("c", 9), tip("d", 2)];
        assert_eq!(pick_sync_peer(&peers, &ours).map(|p| p.url.as_str()), Some("b"));
        assert_eq!(pick_sync_peer(&[], &ours), None);
    }

    #[test]
    fn seen_set_relays_once_and_forgets_the_oldest() {
        let mut seen = SeenSet::new(2);
        assert!(seen.insert(1));
        assert!(!seen.insert(1));
        assert!(seen.insert(2));
        assert!(seen.insert(3));
        assert_eq!(seen.len(), 2);
        assert!(!seen.contains(&1));
        assert!(seen.contains(&3));
        assert!(seen.insert(1), "forgotten items count as new again");
    }

    #[test]
    fn bans_only_for_the_data_own_faults() {
        assert!(bans_for_block(Some(ErrorCode::HighHash)));
        assert!(bans_for_block(Some(ErrorCode::BadPrevBlock)));
        assert!(!bans_for_block(None), "our store failing is not the peer's fault");
        assert!(bans_for_transfer(Some(ErrorCode::InvalidSignature)));
        assert!(bans_for_transfer(Some(ErrorCode::Malformed)));
        for code in [ErrorCode::Duplicate, ErrorCode::NonceTooLow, ErrorCode::NonceGap, ErrorCode::InsufficientFunds] {
            assert!(!bans_for_transfer(Some(code)), "{code:?}");
        }
        assert!(!bans_for_transfer(None));
    }

    #[test]
    fn bans_run_out_after_a_day_and_survive_a_round_trip() {
        let mut bans = BanList::default();
        let now = 1_000_000;
        bans.ban("http://1.2.3.4:5", now);
        assert!(bans.is_banned("http://1.2.3.4:5", now + 3600));
        assert!(!bans.is_banned("http://9.9.9.9:5", now));
        let mut again = BanList::from_entries(bans.entries(now), now + 10);
        assert!(again.is_banned("http://1.2.3.4:5", now + 10));
        assert!(!again.is_banned("http://1.2.3.4:5", now + BAN_DURATION.as_secs() + 1));
        assert!(BanList::from_entries(vec![("ip:1.2.3.4".into(), now)], now).entries(now).is_empty(), "over");
    }

    #[test]
    fn a_claimed_sender_must_match_its_connection() {
        let v4: IpAddr = "10.0.0.7".parse().unwrap();
        assert!(sender_matches("http://10.0.0.7:8334", v4));
        assert!(!sender_matches("http://10.0.0.8:8334", v4), "someone else's name");
        assert!(!sender_matches("http://node.example:8334", v4), "names cannot be checked without a lookup");
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(sender_matches("http://localhost:1", lo));
        assert!(!sender_matches("http://localhost:1", v4));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert!(sender_matches("http://10.0.0.7:1", mapped), "IPv4-mapped IPv6 connection");
        assert!(sender_matches("http://[::1]:1", "::1".parse().unwrap()));
        assert_eq!(ip_key(v4), "ip:10.0.0.7");
    }

    #[test]
    fn peer_urls_are_normalized_or_refused() {
        assert_eq!(normalize_peer_url("http://127.0.0.1:8334/").as_deref(), Ok("http://127.0.0.1:8334"));
        assert_eq!(normalize_peer_url(" http://node.example:1 ").as_deref(), Ok("http://node.example:1"));
        for bad in ["https://a:1", "http://a", "http://a:x", "http://:1", "http://a/b:1", "ftp://a:1"] {
            assert!(normalize_peer_url(bad).is_err(), "{bad}");
        }
    }
}
