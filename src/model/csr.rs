//! Lists per service in one allocation: item `i`'s list is `items[start[i]..start[i + 1]]`.
//! The graph and the view keep their per-service lists (edges, dependencies, groups) this
//! way: two vectors in all instead of one per service. The starts are `u32` (a list of
//! 4 billion items would not fit in memory anyway): 40 KB less per list set at 10,000.

/// Per-node lists, stored contiguously (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Csr<T> {
    start: Vec<u32>,
    items: Vec<T>,
}

/// `n` as a start of [`Csr`].
pub(super) fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 4 billion items in a model's lists")
}

impl<T> Default for Csr<T> {
    fn default() -> Self {
        Self {
            start: vec![0],
            items: Vec::new(),
        }
    }
}

impl<T: Copy> Csr<T> {
    /// Lists for nodes `0..n` from `(node, item)` pairs, each list in the pairs' order (a
    /// counting sort: linear). Pairs naming a node `>= n` are dropped.
    pub(super) fn group(n: usize, pairs: impl Iterator<Item = (usize, T)> + Clone) -> Self {
        let mut start = vec![0u32; n + 1];
        for (node, _) in pairs.clone() {
            if let Some(c) = start.get_mut(node + 1) {
                *c += 1;
            }
        }
        let mut total = 0u32;
        for s in &mut start {
            total = total
                .checked_add(*s)
                .expect("fewer than 4 billion items in a model's lists");
            *s = total;
        }
        // every slot is overwritten below: any item fills them first
        let Some((_, filler)) = pairs.clone().find(|(node, _)| *node < n) else {
            return Self {
                start,
                items: Vec::new(),
            };
        };
        let mut items = vec![filler; start[n] as usize];
        let mut next = start.clone();
        for (node, item) in pairs {
            if node < n {
                items[next[node] as usize] = item;
                next[node] += 1;
            }
        }
        Self { start, items }
    }
}

impl<T> Csr<T> {
    /// Lists from their items and where each starts (`start[0] == 0`, one entry more than
    /// there are lists, each at most `items.len()`, none smaller than the one before).
    pub(super) fn from_parts(start: Vec<u32>, items: Vec<T>) -> Self {
        debug_assert!(start.first() == Some(&0) && start.last() <= Some(&offset(items.len())));
        Self { start, items }
    }

    /// An empty list set, to which [`Csr::push_list`] appends.
    pub(super) fn with_capacity(nodes: usize, items: usize) -> Self {
        let mut start = Vec::with_capacity(nodes + 1);
        start.push(0);
        Self {
            start,
            items: Vec::with_capacity(items),
        }
    }

    /// Append the list of the next node.
    pub(super) fn push_list(&mut self, list: impl IntoIterator<Item = T>) {
        self.items.extend(list);
        self.start.push(offset(self.items.len()));
    }

    /// The list of node `i` (empty for a node beyond the last).
    pub(super) fn of(&self, i: usize) -> &[T] {
        match (self.start.get(i), self.start.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }

    /// How many nodes have a list.
    pub(super) fn len(&self) -> usize {
        self.start.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::Csr;

    #[test]
    fn groups_keep_the_order_of_their_items() {
        let c = Csr::group(3, [(2, 'a'), (0, 'b'), (2, 'c'), (5, 'x')].into_iter());
        assert_eq!(c.of(0), &['b']);
        assert_eq!(c.of(1), &[] as &[char]);
        assert_eq!(c.of(2), &['a', 'c']);
        assert_eq!(c.of(3), &[] as &[char]);
        assert_eq!(c.len(), 3);
        let mut p = Csr::with_capacity(2, 2);
        p.push_list([1]);
        p.push_list([]);
        assert_eq!((p.of(0), p.of(1), p.len()), (&[1][..], &[][..], 2));
    }
}
