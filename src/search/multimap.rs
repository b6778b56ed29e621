//! A compact key → list of `u32` map: one hash entry per key plus one shared array, instead of a
//! `Vec` per key (which costs 24 bytes and an allocation each, a lot at 100,000 codes).

use rustc_hash::FxHashMap as HashMap;
use std::hash::Hash;

#[derive(Debug, Clone)]
pub struct MultiMap<K> {
    index: HashMap<K, u32>,
    offsets: Vec<u32>,
    values: Vec<u32>,
}

impl<K: Hash + Ord + Clone> MultiMap<K> {
    /// Builds from `(key, value)` pairs in any order; duplicate pairs are kept once, values come
    /// out sorted.
    pub fn from_pairs(mut pairs: Vec<(K, u32)>) -> Self {
        pairs.sort_unstable();
        pairs.dedup();
        let mut index = HashMap::default();
        let mut offsets = Vec::new();
        let mut values = Vec::with_capacity(pairs.len());
        let mut prev: Option<K> = None;
        for (k, v) in pairs {
            if prev.as_ref() != Some(&k) {
                index.insert(k.clone(), offsets.len() as u32);
                offsets.push(values.len() as u32);
                prev = Some(k);
            }
            values.push(v);
        }
        offsets.push(values.len() as u32);
        index.shrink_to_fit();
        MultiMap {
            index,
            offsets,
            values,
        }
    }

    pub fn get<Q>(&self, key: &Q) -> &[u32]
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.index.get(key) {
            Some(&slot) => {
                let s = slot as usize;
                &self.values[self.offsets[s] as usize..self.offsets[s + 1] as usize]
            }
            None => &[],
        }
    }

    /// Heap bytes, counting `key_heap` extra bytes per key (e.g. a boxed string's contents).
    pub fn heap_bytes(&self, key_heap: impl Fn(&K) -> usize) -> usize {
        // hashbrown: one control byte per bucket plus the (K, u32) slot; buckets ≈ capacity × 8/7.
        let slot = std::mem::size_of::<(K, u32)>() + 1;
        self.index.capacity() * 8 / 7 * slot
            + self.index.keys().map(key_heap).sum::<usize>()
            + (self.offsets.capacity() + self.values.capacity()) * 4
    }
}

impl<K> Default for MultiMap<K> {
    fn default() -> Self {
        MultiMap {
            index: HashMap::default(),
            offsets: vec![0],
            values: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_dedups() {
        let m = MultiMap::from_pairs(vec![("b", 2), ("a", 1), ("b", 1), ("b", 2)]);
        assert_eq!(m.get("a"), &[1]);
        assert_eq!(m.get("b"), &[1, 2]);
        assert!(m.get("c").is_empty());
        assert!(MultiMap::<String>::default().get("x").is_empty());
    }
}
