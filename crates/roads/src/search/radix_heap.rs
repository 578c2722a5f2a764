//! The Dijkstra's priority queue: a radix heap over `u32` drive times.

/// A radix heap: Dijkstra pops keys in non-decreasing order, so an entry only needs to
/// be filed by the highest bit in which its key differs from the last key popped.
/// Pushes are O(1) and each entry moves down at most 32 times; in practice this is
/// markedly faster than a binary heap on road graphs.
#[derive(Debug)]
pub(super) struct RadixHeap {
    last: u32,
    len: usize,
    buckets: [Vec<(u32, u32)>; 33],
}

impl Default for RadixHeap {
    fn default() -> RadixHeap {
        RadixHeap {
            last: 0,
            len: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
        }
    }
}

impl RadixHeap {
    pub(super) fn clear(&mut self) {
        self.last = 0;
        self.len = 0;
        for b in &mut self.buckets {
            b.clear();
        }
    }

    #[inline]
    fn bucket(&self, key: u32) -> usize {
        (32 - (key ^ self.last).leading_zeros()) as usize
    }

    /// Files `(key, value)`; `key` must not be below the last key popped.
    #[inline]
    pub(super) fn push(&mut self, key: u32, value: u32) {
        debug_assert!(key >= self.last);
        let b = self.bucket(key);
        self.buckets[b].push((key, value));
        self.len += 1;
    }

    pub(super) fn pop(&mut self) -> Option<(u32, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = (1..33).find(|&i| !self.buckets[i].is_empty())?;
            let min = self.buckets[i].iter().map(|e| e.0).min()?;
            self.last = min;
            let moved = std::mem::take(&mut self.buckets[i]);
            for (k, v) in &moved {
                let b = self.bucket(*k);
                self.buckets[b].push((*k, *v));
            }
            // Give the emptied bucket its allocation back.
            let mut moved = moved;
            moved.clear();
            self.buckets[i] = moved;
        }
        self.len -= 1;
        self.buckets[0].pop()
    }
}
