//! A capped name-keyed table: the interning map behind every name the
//! fingerprint keeps. Lookups borrow the key from the request bytes (names are
//! kept as the validated UTF-8 bytes, so the hot path never re-checks them);
//! only a name seen for the first time is copied.

use hashbrown::HashMap;
use hashbrown::hash_map::EntryRef;

/// Names to values, holding at most a configured number of names.
#[derive(Debug, Clone)]
pub struct CappedTable<V> {
    entries: HashMap<Box<[u8]>, V>,
}

impl<V> Default for CappedTable<V> {
    fn default() -> Self {
        CappedTable {
            entries: HashMap::new(),
        }
    }
}

impl<V: Default> CappedTable<V> {
    /// The value for `key`, inserted if the table holds fewer than `cap`
    /// names; `None` when `key` is new and the table is full.
    #[inline]
    pub fn get_or_insert(&mut self, key: &[u8], cap: usize) -> Option<&mut V> {
        self.get_or_insert_with(key, cap, V::default)
    }
}

impl<V> CappedTable<V> {
    /// The value for `key`, inserted as `make()` if the table holds fewer than
    /// `cap` names; `None` when `key` is new and the table is full.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        key: &[u8],
        cap: usize,
        make: impl FnOnce() -> V,
    ) -> Option<&mut V> {
        let full = self.entries.len() >= cap;
        match self.entries.entry_ref(key) {
            EntryRef::Occupied(entry) => Some(entry.into_mut()),
            EntryRef::Vacant(_) if full => None,
            EntryRef::Vacant(entry) => Some(entry.insert(make())),
        }
    }

    /// The value for `key`, if present.
    #[cfg(test)]
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.entries.get(key)
    }

    /// Names held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no name is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Entries with their names as strings, for the snapshot.
    pub fn iter_named(&self) -> impl Iterator<Item = (String, &V)> {
        self.iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v))
    }
}

/// Counts per name, capped; the common case of [`CappedTable`].
pub type CountTable = CappedTable<u64>;

impl CountTable {
    /// Adds one occurrence of `key`; returns false when it went over the cap.
    #[inline]
    pub fn count(&mut self, key: &[u8], cap: usize) -> bool {
        self.add(key, 1, cap)
    }

    /// Adds `n` occurrences of `key`; returns false when it went over the cap.
    #[inline]
    pub fn add(&mut self, key: &[u8], n: u64, cap: usize) -> bool {
        match self.get_or_insert(key, cap) {
            Some(count) => {
                *count += n;
                true
            }
            None => false,
        }
    }

    /// The counts as a sorted map, for the snapshot.
    pub fn to_map(&self) -> std::collections::BTreeMap<String, u64> {
        self.iter_named().map(|(k, v)| (k, *v)).collect()
    }
}

/// Non-zero counts of a fixed list of names (severities, point types, …),
/// as a sorted map for the snapshot.
pub fn named(names: &[&str], counts: &[u64]) -> std::collections::BTreeMap<String, u64> {
    names
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| ((*name).to_owned(), *n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_existing_names_but_refuses_new_ones_past_the_cap() {
        let mut table = CountTable::default();
        assert!(table.count(b"http.route", 2));
        assert!(table.count(b"http.request.method", 2));
        assert!(!table.count(b"user.id", 2));
        assert!(table.count(b"http.route", 2));
        assert_eq!(table.get(b"http.route"), Some(&2));
        assert_eq!(table.get(b"user.id"), None);
        assert_eq!(table.len(), 2);
    }
}
