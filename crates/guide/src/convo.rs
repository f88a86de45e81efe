//! Conversation state in memory: bounded in count (least recently used evicted) and in time
//! (entries expire after a TTL). With a [`SharedTurns`] store (Redis, when several servers
//! answer one shop) the turns live there instead, with the same TTL, so a conversation can
//! continue on any server.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::{Error, Parse};

/// Where turns live when several servers answer one shop: values under keys with a time to
/// live, and a way to drop a user's. Errors are messages (the store is someone else's).
pub trait SharedTurns: Send + Sync {
    /// The value stored under `id`, unless expired.
    fn get(&self, id: &str) -> Result<Option<String>, String>;
    /// Store `value` under `id` for `ttl_secs`, noting that it belongs to `user`.
    fn put(&self, id: &str, user: Option<&str>, value: &str, ttl_secs: u64) -> Result<(), String>;
    /// Drop every value of `user`; how many.
    fn forget_user(&self, user: &str) -> Result<usize, String>;
}

/// A turn as shared: items by id (catalogue positions may differ between servers).
#[derive(Serialize, Deserialize)]
struct SharedTurn {
    user: Option<String>,
    parse: Parse,
    soft: Vec<String>,
    shown: Vec<(u32, String)>,
}

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
    shared: OnceLock<Arc<dyn SharedTurns>>,
}

impl Conversations {
    pub fn new(cap: usize, ttl_secs: u64) -> Conversations {
        Conversations {
            map: Mutex::new(HashMap::new()),
            cap: cap.max(1),
            ttl: Duration::from_secs(ttl_secs.max(1)),
            counter: AtomicU64::new(0),
            keys: RandomState::new(),
            shared: OnceLock::new(),
        }
    }

    /// Keep turns in `store` from now on (set once, before answering).
    pub fn share(&self, store: Arc<dyn SharedTurns>) {
        let _ = self.shared.set(store);
    }

    /// [`Conversations::get`] for a catalogue: a shared turn's items are found by id.
    pub fn get_in(&self, cat: &Catalog, id: &str, user: Option<&str>) -> Result<Option<Turn>, Error> {
        let Some(shared) = self.shared.get() else { return self.get(id, user) };
        let text = match shared.get(id) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(None),
            Err(e) => {
                // the shared store is down: this server's own turns still answer
                eprintln!("assistant: shared conversations unavailable ({e}); using this server's");
                return self.get(id, user);
            }
        };
        let Ok(t) = serde_json::from_str::<SharedTurn>(&text) else { return Ok(None) };
        if t.user.as_deref() != user {
            return Ok(None);
        }
        let shown = t
            .shown
            .into_iter()
            .filter_map(|(i, item)| match cat.items.get(i as usize) {
                Some(it) if it.id == item => Some(i),
                _ => cat.items.iter().position(|it| it.id == item).map(|p| p as u32),
            })
            .collect();
        Ok(Some(Turn { user: t.user, parse: t.parse, soft: t.soft, shown }))
    }

    /// [`Conversations::put`] for a catalogue (see [`Conversations::get_in`]).
    pub fn put_in(&self, cat: &Catalog, id: String, turn: Turn) -> Result<(), Error> {
        let Some(shared) = self.shared.get() else { return self.put(id, turn) };
        // kept here too: answers go on (on this server) while the shared store is down
        self.put(id.clone(), turn.clone())?;
        let shown = turn.shown.iter().filter_map(|&i| cat.items.get(i as usize).map(|it| (i, it.id.clone()))).collect();
        let t = SharedTurn { user: turn.user.clone(), parse: turn.parse, soft: turn.soft, shown };
        let text = serde_json::to_string(&t).expect("a turn always serialises");
        if let Err(e) = shared.put(&id, turn.user.as_deref(), &text, self.ttl.as_secs()) {
            eprintln!("assistant: cannot share conversation {id} ({e}); kept on this server only");
        }
        Ok(())
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
        let shared = match self.shared.get() {
            Some(s) => s.forget_user(user).map_err(Error::Shared)?,
            None => 0,
        };
        let mut map = self.map.lock().map_err(|_| Error::Poisoned)?;
        let before = map.len();
        map.retain(|_, e| e.turn.user.as_deref() != Some(user));
        Ok(shared + before - map.len())
    }

    #[doc(hidden)]
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}
