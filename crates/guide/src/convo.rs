//! Conversation state in memory: bounded in count (least recently used evicted) and in time
//! (entries expire after a TTL).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{Error, Parse};

/// What a conversation remembers between turns.
#[derive(Debug, Clone)]
pub struct Turn {
    pub user: Option<String>,
    pub parse: Parse,
    pub soft: Vec<String>,
    /// Items shown in the last answer, in order.
    pub shown: Vec<u32>,
}

struct Entry {
    turn: Turn,
    touched: Instant,
}

pub struct Conversations {
    map: Mutex<HashMap<String, Entry>>,
    cap: usize,
    ttl: Duration,
    counter: AtomicU64,
    keys: RandomState,
}

impl Conversations {
    pub fn new(cap: usize, ttl_secs: u64) -> Conversations {
        Conversations {
            map: Mutex::new(HashMap::new()),
            cap: cap.max(1),
            ttl: Duration::from_secs(ttl_secs.max(1)),
            counter: AtomicU64::new(0),
            keys: RandomState::new(),
        }
    }

    /// A new, hard-to-guess conversation id.
    pub fn new_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut h1 = self.keys.build_hasher();
        h1.write_u64(n);
        h1.write_u128(t);
        let mut h2 = self.keys.build_hasher();
        h2.write_u64(h1.finish());
        h2.write_u64(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        format!("c{:016x}{:016x}", h1.finish(), h2.finish())
    }

    /// The last turn of `id`, when it is alive and belongs to `user`.
    pub fn get(&self, id: &str, user: Option<&str>) -> Result<Option<Turn>, Error> {
        let mut map = self.map.lock().map_err(|_| Error::Poisoned)?;
        let now = Instant::now();
        match map.get(id) {
            Some(e) if now.duration_since(e.touched) > self.ttl => {
                map.remove(id);
                Ok(None)
            }
            Some(e) if e.turn.user.as_deref() == user => Ok(Some(e.turn.clone())),
            _ => Ok(None),
        }
    }

    pub fn put(&self, id: String, turn: Turn) -> Result<(), Error> {
        let mut map = self.map.lock().map_err(|_| Error::Poisoned)?;
        let now = Instant::now();
        if map.len() >= self.cap && !map.contains_key(&id) {
            let ttl = self.ttl;
            map.retain(|_, e| now.duration_since(e.touched) <= ttl);
            while map.len() >= self.cap {
                let oldest = map.iter().min_by_key(|(_, e)| e.touched).map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => map.remove(&k),
                    None => break,
                };
            }
        }
        map.insert(id, Entry { turn, touched: now });
        Ok(())
    }

    /// Drop every conversation of `user` (a deleted user); returns how many.
    pub fn forget_user(&self, user: &str) -> Result<usize, Error> {
        let mut map = self.map.lock().map_err(|_| Error::Poisoned)?;
        let before = map.len();
        map.retain(|_, e| e.turn.user.as_deref() != Some(user));
        Ok(before - map.len())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(user: Option<&str>) -> Turn {
        Turn { user: user.map(str::to_owned), parse: Parse::default(), soft: vec![], shown: vec![1, 2] }
    }

    #[test]
    fn bounded_and_owned_by_user() {
        let c = Conversations::new(2, 60);
        let (a, b, d) = (c.new_id(), c.new_id(), c.new_id());
        assert_ne!(a, b);
        c.put(a.clone(), turn(Some("u1"))).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        c.put(b.clone(), turn(None)).unwrap();
        assert!(c.get(&a, Some("u1")).unwrap().is_some());
        assert!(c.get(&a, Some("u2")).unwrap().is_none(), "another user cannot continue it");
        std::thread::sleep(Duration::from_millis(2));
        c.put(d.clone(), turn(None)).unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.get(&a, Some("u1")).unwrap().is_none(), "the least recently used one went");
        assert!(c.get(&d, None).unwrap().is_some());
    }

    #[test]
    fn a_deleted_user_s_conversations_go_at_once() {
        let c = Conversations::new(10, 3600);
        let (a, b, d) = (c.new_id(), c.new_id(), c.new_id());
        c.put(a.clone(), turn(Some("u1"))).unwrap();
        c.put(b.clone(), turn(Some("u2"))).unwrap();
        c.put(d.clone(), turn(Some("u1"))).unwrap();
        assert_eq!(c.forget_user("u1").unwrap(), 2);
        assert!(c.get(&a, Some("u1")).unwrap().is_none() && c.get(&d, Some("u1")).unwrap().is_none());
        assert!(c.get(&b, Some("u2")).unwrap().is_some());
    }
}
