use rustc_hash::FxHashMap;

/// Two-way map between external string ids and dense `u32` indices `0..len`.
///
/// Indices are handed out in order of first appearance, so the same input order always
/// gives the same indices (reproducible models and splits).
#[derive(Debug, Clone, Default)]
pub struct IdMap {
    ids: Vec<String>,
    index: FxHashMap<String, u32>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Index of `id`, inserting it when new.
    pub fn get_or_insert(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = u32::try_from(self.ids.len()).expect("more than u32::MAX ids");
        self.ids.push(id.to_owned());
        self.index.insert(id.to_owned(), i);
        i
    }

    /// Index of `id`, if known.
    pub fn get(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// External id of index `i`. Panics when out of range (an internal invariant).
    pub fn id(&self, i: u32) -> &str {
        &self.ids[i as usize]
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no id was inserted.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// External ids in index order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }
}

impl FromIterator<String> for IdMap {
    fn from_iter<T: IntoIterator<Item = String>>(iter: T) -> Self {
        let mut m = IdMap::new();
        for id in iter {
            m.get_or_insert(&id);
        }
        m
    }
}
