//! "Renamed?" suggestions: pairs a removed name with the closest added one when they are
//! close by edit distance or share most of their `.`/`_`-separated tokens.

use std::collections::{BTreeMap, BTreeSet};

/// How similar two names must be (0–1) to be suggested as a rename.
const MIN_SIMILARITY: f64 = 0.6;

/// Similarity of two names in 0–1: the better of normalized Levenshtein similarity and the
/// Jaccard index of their tokens.
pub fn similarity(a: &str, b: &str) -> f64 {
    let edit = strsim::normalized_levenshtein(a, b);
    let tokens = |name: &str| -> BTreeSet<String> {
        name.split(['.', '_', '-', '/', ' '])
            .filter(|t| !t.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let (ta, tb) = (tokens(a), tokens(b));
    let union = ta.union(&tb).count();
    let shared = if union == 0 {
        0.0
    } else {
        ta.intersection(&tb).count() as f64 / union as f64
    };
    edit.max(shared)
}

/// Pairs each removed name with at most one added name (and each added name with at most
/// one removed name), best pairs first, when they are similar enough.
pub fn pair_renames<'a>(removed: &[&'a str], added: &[&'a str]) -> BTreeMap<&'a str, &'a str> {
    let mut candidates: Vec<(f64, &str, &str)> = Vec::new();
    for old in removed {
        for new in added {
            let score = similarity(old, new);
            if score >= MIN_SIMILARITY {
                candidates.push((score, old, new));
            }
        }
    }
    // Best score first; ties by names so the result is deterministic.
    candidates.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| (a.1, a.2).cmp(&(b.1, b.2)))
    });
    let mut pairs = BTreeMap::new();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    for (_, old, new) in candidates {
        if !pairs.contains_key(old) && !taken.contains(new) {
            pairs.insert(old, new);
            taken.insert(new);
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_pair_and_unrelated_ones_do_not() {
        let pairs = pair_renames(
            &[
                "app.inventory.reserved",
                "http.server.duration",
                "app.cache.hits",
            ],
            &[
                "app.inventory.reservations",
                "http.server.request.duration",
                "jvm.gc.pause",
            ],
        );
        assert_eq!(
            pairs.get("app.inventory.reserved"),
            Some(&"app.inventory.reservations")
        );
        assert_eq!(
            pairs.get("http.server.duration"),
            Some(&"http.server.request.duration")
        );
        assert_eq!(pairs.get("app.cache.hits"), None);
    }

    #[test]
    fn each_added_name_is_suggested_once() {
        let pairs = pair_renames(
            &["app.orders.placed", "app.orders.place"],
            &["app.orders.placed_v2"],
        );
        assert_eq!(pairs.len(), 1);
        assert_eq!(
            pairs.get("app.orders.placed"),
            Some(&"app.orders.placed_v2")
        );
    }

    #[test]
    fn similarity_uses_shared_tokens() {
        assert!(similarity("db.client.connections.usage", "db.client.connections.count") >= 0.6);
        assert!(similarity("a.b", "x.y") < 0.6);
    }
}
