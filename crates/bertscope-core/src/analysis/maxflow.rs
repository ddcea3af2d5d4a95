//! Maximum flow with Dinic's algorithm on `f64` capacities, for a network that is built once and
//! then solved for many source/sink pairs.
//!
//! Dinic: repeat { label nodes by BFS distance from the source over edges with capacity left
//! (stop when the sink is unreachable); push a blocking flow along edges that go exactly one
//! level down, by depth-first search that remembers each node's first untried edge }.

/// Remaining capacity at or below this counts as none: keeps float round-off from producing
/// endless vanishing augmenting paths. (Capacities here are attention weights, at most 1.)
const EPS: f64 = 1e-12;

const UNREACHED: usize = usize::MAX;

/// A directed network with capacities, reusable across [`Network::max_flow`] calls.
///
/// Arcs are stored per node, contiguously (node `v`'s arcs are `start[v]..start[v + 1]`): every
/// edge `a → b` gives an arc at `a` with its capacity and a twin arc `b → a` at `b` with none,
/// which carries the residual capacity for undoing flow.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    /// Where each node's arcs begin; one more entry than nodes.
    start: Vec<usize>,
    /// Head of each arc.
    to: Vec<usize>,
    /// Index of each arc's twin.
    twin: Vec<usize>,
    /// Capacity of each arc as built (twins start at 0).
    capacity: Vec<f64>,
    /// Capacity left in the current solve.
    residual: Vec<f64>,
    /// BFS distance from the source in the current phase.
    level: Vec<usize>,
    /// Per node, the first arc not yet found blocked this phase.
    next: Vec<usize>,
    queue: Vec<usize>,
}

impl Network {
    /// A network of `nodes` nodes and the edges `(from, to, capacity)`.
    pub(crate) fn new(nodes: usize, edges: &[(usize, usize, f64)]) -> Self {
        let mut start = vec![0; nodes + 1];
        for &(a, b, _) in edges {
            start[a + 1] += 1;
            start[b + 1] += 1;
        }
        for v in 0..nodes {
            start[v + 1] += start[v];
        }
        let arcs = 2 * edges.len();
        let (mut to, mut twin, mut capacity) = (vec![0; arcs], vec![0; arcs], vec![0.0; arcs]);
        let mut fill = start.clone();
        for &(a, b, c) in edges {
            let (i, j) = (fill[a], fill[b]);
            fill[a] += 1;
            fill[b] += 1;
            (to[i], twin[i], capacity[i]) = (b, j, c);
            (to[j], twin[j], capacity[j]) = (a, i, 0.0);
        }
        Self {
            start,
            to,
            twin,
            residual: capacity.clone(),
            capacity,
            level: vec![UNREACHED; nodes],
            next: vec![0; nodes],
            queue: Vec::with_capacity(nodes),
        }
    }

    /// The value of a maximum flow from `source` to `sink` (`f64::INFINITY` if they are the same node).
    pub(crate) fn max_flow(&mut self, source: usize, sink: usize) -> f64 {
        if source == sink {
            return f64::INFINITY;
        }
        self.residual.copy_from_slice(&self.capacity);
        // No flow exceeds what leaves the source or enters the sink; reaching that ends the search
        // without a last BFS to prove it.
        let out_of_source: f64 = (self.start[source]..self.start[source + 1]).map(|e| self.capacity[e]).sum();
        let into_sink: f64 = (self.start[sink]..self.start[sink + 1]).map(|e| self.capacity[self.twin[e]]).sum();
        let bound = out_of_source.min(into_sink);
        let mut total = 0.0;
        while total < bound - EPS && self.label_levels(source, sink) {
            self.next.copy_from_slice(&self.start[..self.level.len()]);
            total += self.push(source, sink, f64::INFINITY);
        }
        total
    }

    /// BFS from the source over edges with capacity left; whether the sink was reached.
    fn label_levels(&mut self, source: usize, sink: usize) -> bool {
        self.level.fill(UNREACHED);
        self.queue.clear();
        self.level[source] = 0;
        self.queue.push(source);
        let mut head = 0;
        while let Some(&v) = self.queue.get(head) {
            head += 1;
            if self.level[v] >= self.level[sink] {
                break; // The sink's level is complete; deeper nodes cannot be on a shortest path.
            }
            for e in self.start[v]..self.start[v + 1] {
                let u = self.to[e];
                if self.residual[e] > EPS && self.level[u] == UNREACHED {
                    self.level[u] = self.level[v] + 1;
                    self.queue.push(u);
                }
            }
        }
        self.level[sink] != UNREACHED
    }

    /// Pushes up to `limit` from `v` towards the sink along level-increasing edges; returns how
    /// much went through. Run from the source with an infinite limit, it leaves a blocking flow.
    fn push(&mut self, v: usize, sink: usize, limit: f64) -> f64 {
        if v == sink {
            return limit;
        }
        let mut pushed = 0.0;
        while self.next[v] < self.start[v + 1] {
            let e = self.next[v];
            let u = self.to[e];
            // Nodes as deep as the sink but not the sink lead nowhere in this phase.
            let useful = u == sink || self.level[u] < self.level[sink];
            if self.residual[e] > EPS && useful && self.level[u] == self.level[v] + 1 {
                let sent = self.push(u, sink, (limit - pushed).min(self.residual[e]));
                self.residual[e] -= sent;
                self.residual[self.twin[e]] += sent;
                pushed += sent;
                if limit - pushed <= EPS {
                    // `v` is satisfied; edge `e` may have room left for the next caller.
                    return pushed;
                }
            }
            // Edge `e` is saturated or leads to a blocked node: skip it for the rest of the phase.
            self.next[v] += 1;
        }
        pushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook network (CLRS figure 26.1): max flow 23.
    #[test]
    fn textbook_network() {
        let edges = [(0, 1, 16), (0, 2, 13), (1, 2, 10), (2, 1, 4), (1, 3, 12), (3, 2, 9), (2, 4, 14), (4, 3, 7)]
            .into_iter()
            .chain([(3, 5, 20), (4, 5, 4)])
            .map(|(a, b, c)| (a, b, c as f64));
        let mut net = Network::new(6, &edges.collect::<Vec<_>>());
        assert_eq!(net.max_flow(0, 5), 23.0);
        assert_eq!(net.max_flow(0, 5), 23.0, "a second solve starts from scratch");
        assert_eq!(net.max_flow(5, 0), 0.0);
    }

    /// A greedy first path s→a→b→t must be partly undone through the reverse edge b→a.
    #[test]
    fn needs_a_reverse_edge() {
        let (s, a, b, t) = (0, 1, 2, 3);
        let mut net = Network::new(4, &[(s, a, 1.0), (s, b, 1.0), (a, b, 1.0), (a, t, 1.0), (b, t, 1.0)]);
        assert_eq!(net.max_flow(s, t), 2.0);
    }

    /// Random small networks: the max flow equals the minimum over all s-t cuts, enumerated.
    #[test]
    fn equals_brute_force_min_cut() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for trial in 0..200 {
            let nodes = 3 + trial % 6;
            let mut edges = Vec::new();
            for a in 0..nodes {
                for b in 0..nodes {
                    if a != b && next() < 0.5 {
                        edges.push((a, b, (next() * 4.0).floor() / 4.0 + next() * 0.1));
                    }
                }
            }
            let mut net = Network::new(nodes, &edges);
            let (s, t) = (0, nodes - 1);
            // Every cut: a subset containing s and not t; its capacity is the sum over edges leaving it.
            let min_cut = (0..1u32 << nodes)
                .filter(|set| set & 1 == 1 && set >> t & 1 == 0)
                .map(|set| edges.iter().filter(|&&(a, b, _)| set >> a & 1 == 1 && set >> b & 1 == 0).map(|e| e.2).sum())
                .fold(f64::INFINITY, f64::min);
            let flow = net.max_flow(s, t);
            assert!((flow - min_cut).abs() < 1e-9, "trial {trial}: flow {flow} vs min cut {min_cut}");
        }
    }
}
