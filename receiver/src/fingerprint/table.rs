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

/// Counts of names that usually arrive in the same order: the spans of one
/// operation carry the same attribute keys in the same order, so the name at
/// position `i` is compared with the name last seen there first, without
/// hashing; a miss falls back to a scan of the (capped, small) list.
#[derive(Debug, Default)]
pub struct OrderedCounts {
    entries: Vec<(Box<[u8]>, u64)>,
    /// For each position, the entry last seen there.
    by_position: Vec<u32>,
}

impl OrderedCounts {
    /// Counts `key` seen at `position`; false when it is new and `cap` names
    /// are held.
    #[inline]
    pub fn count(&mut self, position: usize, key: &[u8], cap: usize) -> bool {
        if let Some(&slot) = self.by_position.get(position)
            && let Some(entry) = self.entries.get_mut(slot as usize)
            && *entry.0 == *key
        {
            entry.1 += 1;
            return true;
        }
        let slot = match self.entries.iter().position(|(name, _)| **name == *key) {
            Some(slot) => slot,
            None if self.entries.len() >= cap => return false,
            None => {
                self.entries.push((key.into(), 0));
                self.entries.len() - 1
            }
        };
        self.entries[slot].1 += 1;
        if self.by_position.len() <= position {
            self.by_position.resize(position + 1, u32::MAX);
        }
        self.by_position[position] = slot as u32;
        true
    }

    /// The counts as a sorted map, for the snapshot.
    pub fn to_map(&self) -> std::collections::BTreeMap<String, u64> {
        self.entries
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
            .collect()
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
    fn ordered_counts_follow_keys_that_move_and_respect_the_cap() {
        let mut counts = OrderedCounts::default();
        for (position, key) in [b"http.route".as_slice(), b"http.request.method"]
            .iter()
            .enumerate()
        {
            assert!(counts.count(position, key, 2));
        }
        // The same keys in the other order, then a third key over the cap.
        assert!(counts.count(0, b"http.request.method", 2));
        assert!(counts.count(1, b"http.route", 2));
        assert!(!counts.count(2, b"user.id", 2));
        let map = counts.to_map();
        assert_eq!(map.get("http.route"), Some(&2));
        assert_eq!(map.get("http.request.method"), Some(&2));
        assert_eq!(map.len(), 2);
    }

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
