//! A generic directed acyclic graph of "depends on" edges, built on petgraph: cycle
//! reports as paths, dependency and dependent closures, and a bounded concurrent walk
//! that starts a node once everything it depends on is done.
//!
//! This crate knows nothing about resources: nodes and edges carry whatever the caller
//! puts in them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::stream::{FuturesUnordered, StreamExt};
use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

/// A node's handle.
pub type NodeId = NodeIndex<u32>;

/// A graph whose edge `a -> b` means "a depends on b".
#[derive(Debug, Clone)]
pub struct Dag<N, E> {
    graph: DiGraph<N, E, u32>,
}

impl<N, E> Default for Dag<N, E> {
    fn default() -> Self {
        Self {
            graph: DiGraph::default(),
        }
    }
}

/// A cycle: `nodes[i]` depends on `nodes[i + 1]` through `edges[i]`, and the last node
/// depends on the first through the last edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub nodes: Vec<NodeId>,
    pub edges: Vec<EdgeIndex<u32>>,
}

impl<N, E> Dag<N, E> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Self {
            graph: DiGraph::with_capacity(nodes, edges),
        }
    }

    pub fn add_node(&mut self, node: N) -> NodeId {
        self.graph.add_node(node)
    }

    /// Records that `dependent` depends on `dependency`.
    pub fn add_edge(&mut self, dependent: NodeId, dependency: NodeId, edge: E) {
        self.graph.add_edge(dependent, dependency, edge);
    }

    pub fn node(&self, id: NodeId) -> &N {
        &self.graph[id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut N {
        &mut self.graph[id]
    }

    pub fn edge(&self, id: EdgeIndex<u32>) -> &E {
        &self.graph[id]
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.graph.node_indices()
    }

    /// Every edge as (dependent, dependency, data).
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId, &E)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (e.source(), e.target(), e.weight()))
    }

    /// What `id` depends on directly.
    pub fn dependencies(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.graph.neighbors_directed(id, Direction::Outgoing)
    }

    /// What depends on `id` directly.
    pub fn dependents(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.graph.neighbors_directed(id, Direction::Incoming)
    }

    /// `roots` and everything they depend on, transitively.
    pub fn dependency_closure(&self, roots: &[NodeId]) -> HashSet<NodeId> {
        self.closure(roots, Direction::Outgoing)
    }

    /// `roots` and everything that depends on them, transitively.
    pub fn dependent_closure(&self, roots: &[NodeId]) -> HashSet<NodeId> {
        self.closure(roots, Direction::Incoming)
    }

    fn closure(&self, roots: &[NodeId], dir: Direction) -> HashSet<NodeId> {
        let mut seen: HashSet<NodeId> = roots.iter().copied().collect();
        let mut queue: VecDeque<NodeId> = roots.iter().copied().collect();
        while let Some(n) = queue.pop_front() {
            for next in self.graph.neighbors_directed(n, dir) {
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        seen
    }

    /// Nodes ordered so that every node comes after everything it depends on, or the
    /// cycles that make that impossible (each as one path around it).
    pub fn dependency_order(&self) -> Result<Vec<NodeId>, Vec<Cycle>> {
        // Kahn's algorithm over "depends on" edges, taking nodes in index order among
        // those ready, so the order is deterministic.
        let n = self.graph.node_count();
        let mut waiting: Vec<usize> = vec![0; n];
        for id in self.graph.node_indices() {
            waiting[id.index()] = self
                .graph
                .neighbors_directed(id, Direction::Outgoing)
                .count();
        }
        let mut ready: VecDeque<NodeId> = self
            .graph
            .node_indices()
            .filter(|id| waiting[id.index()] == 0)
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(id) = ready.pop_front() {
            order.push(id);
            for dependent in self.graph.neighbors_directed(id, Direction::Incoming) {
                waiting[dependent.index()] -= 1;
                if waiting[dependent.index()] == 0 {
                    ready.push_back(dependent);
                }
            }
        }
        if order.len() == n {
            Ok(order)
        } else {
            Err(self.cycles())
        }
    }

    /// One path around each strongly connected component that holds a cycle.
    pub fn cycles(&self) -> Vec<Cycle> {
        let mut out = Vec::new();
        for scc in tarjan_scc(&self.graph) {
            let members: HashSet<NodeId> = scc.iter().copied().collect();
            let start = *scc.iter().min().expect("a component is never empty");
            if scc.len() == 1 {
                if let Some(e) = self.graph.find_edge(start, start) {
                    out.push(Cycle {
                        nodes: vec![start],
                        edges: vec![e],
                    });
                }
                continue;
            }
            if let Some(cycle) = self.path_back(start, &members) {
                out.push(cycle);
            }
        }
        out.sort_by_key(|c| c.nodes[0]);
        out
    }

    /// A shortest path from `start` back to itself inside `members` (breadth first).
    fn path_back(&self, start: NodeId, members: &HashSet<NodeId>) -> Option<Cycle> {
        let mut parent: HashMap<NodeId, (NodeId, EdgeIndex<u32>)> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut visited = HashSet::from([start]);
        while let Some(n) = queue.pop_front() {
            let mut edges: Vec<_> = self.graph.edges_directed(n, Direction::Outgoing).collect();
            edges.sort_by_key(|e| e.target());
            for e in edges {
                let next = e.target();
                if !members.contains(&next) {
                    continue;
                }
                if next == start {
                    let mut nodes = vec![n];
                    let mut edges = vec![e.id()];
                    let mut cur = n;
                    while cur != start {
                        let (p, pe) = parent[&cur];
                        nodes.push(p);
                        edges.push(pe);
                        cur = p;
                    }
                    nodes.reverse();
                    edges.reverse();
                    return Some(Cycle { nodes, edges });
                }
                if visited.insert(next) {
                    parent.insert(next, (n, e.id()));
                    queue.push_back(next);
                }
            }
        }
        None
    }
}

/// Which way a walk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkOrder {
    /// A node starts after everything it depends on (creates and updates).
    Dependencies,
    /// A node starts after everything that depends on it (deletes).
    Dependents,
}

/// What happened to each node of a walk.
#[derive(Debug)]
pub struct WalkReport<T, Err> {
    pub completed: Vec<(NodeId, T)>,
    pub failed: Vec<(NodeId, Err)>,
    /// Not run because something they wait for failed or was skipped.
    pub skipped: Vec<NodeId>,
    /// Not run because the walk was stopped.
    pub not_started: Vec<NodeId>,
}

impl<T, Err> WalkReport<T, Err> {
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.not_started.is_empty()
    }
}

impl<N, E> Dag<N, E> {
    /// Runs `visit` on every node, at most `parallelism` at a time, each once the nodes it
    /// waits for (per `order`) are done. A failure skips everything waiting on it; once
    /// `stop` is set no new node starts, while those running finish.
    ///
    /// The graph must be acyclic; nodes in a cycle are reported as skipped.
    pub async fn walk<T, Err, F, Fut>(
        &self,
        order: WalkOrder,
        parallelism: usize,
        stop: &AtomicBool,
        mut visit: F,
    ) -> WalkReport<T, Err>
    where
        F: FnMut(NodeId) -> Fut,
        Fut: Future<Output = Result<T, Err>>,
    {
        let (waits_on, released) = match order {
            WalkOrder::Dependencies => (Direction::Outgoing, Direction::Incoming),
            WalkOrder::Dependents => (Direction::Incoming, Direction::Outgoing),
        };
        let n = self.graph.node_count();
        let mut waiting: Vec<usize> = vec![0; n];
        for id in self.graph.node_indices() {
            waiting[id.index()] = self.graph.neighbors_directed(id, waits_on).count();
        }
        let mut ready: VecDeque<NodeId> = self
            .graph
            .node_indices()
            .filter(|id| waiting[id.index()] == 0)
            .collect();
        let mut done = vec![false; n];
        let mut report = WalkReport {
            completed: Vec::new(),
            failed: Vec::new(),
            skipped: Vec::new(),
            not_started: Vec::new(),
        };
        let mut running = FuturesUnordered::new();
        let parallelism = parallelism.max(1);
        loop {
            while running.len() < parallelism && !stop.load(Ordering::SeqCst) {
                let Some(id) = ready.pop_front() else { break };
                let fut = visit(id);
                running.push(async move { (id, fut.await) });
            }
            let Some((id, result)) = running.next().await else {
                break;
            };
            done[id.index()] = true;
            match result {
                Ok(value) => {
                    report.completed.push((id, value));
                    for next in self.graph.neighbors_directed(id, released) {
                        waiting[next.index()] -= 1;
                        if waiting[next.index()] == 0 {
                            ready.push_back(next);
                        }
                    }
                }
                Err(err) => {
                    report.failed.push((id, err));
                    for skipped in self.closure(&[id], released) {
                        if skipped != id && !done[skipped.index()] {
                            done[skipped.index()] = true;
                            report.skipped.push(skipped);
                        }
                    }
                    ready.retain(|r| !done[r.index()]);
                }
            }
        }
        for id in self.graph.node_indices() {
            if !done[id.index()] {
                if ready.contains(&id) || stop.load(Ordering::SeqCst) {
                    report.not_started.push(id);
                } else {
                    report.skipped.push(id);
                }
            }
        }
        report.skipped.sort();
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn chain() -> (Dag<&'static str, ()>, Vec<NodeId>) {
        let mut g = Dag::new();
        let net = g.add_node("net");
        let subnet = g.add_node("subnet");
        let server = g.add_node("server");
        let dns = g.add_node("dns");
        g.add_edge(subnet, net, ());
        g.add_edge(server, subnet, ());
        g.add_edge(dns, server, ());
        (g, vec![net, subnet, server, dns])
    }

    #[test]
    fn orders_dependencies_first() {
        let (g, ids) = chain();
        assert_eq!(g.dependency_order().unwrap(), ids);
    }

    #[test]
    fn closures_follow_edges_both_ways() {
        let (g, ids) = chain();
        let deps = g.dependency_closure(&[ids[2]]);
        assert_eq!(deps, HashSet::from([ids[0], ids[1], ids[2]]));
        let dependents = g.dependent_closure(&[ids[1]]);
        assert_eq!(dependents, HashSet::from([ids[1], ids[2], ids[3]]));
    }

    #[test]
    fn reports_a_cycle_as_a_path() {
        let mut g: Dag<&str, &str> = Dag::new();
        let a = g.add_node("a");
        let b = g.add_node("b");
        let c = g.add_node("c");
        let d = g.add_node("d");
        g.add_edge(a, b, "a->b");
        g.add_edge(b, c, "b->c");
        g.add_edge(c, a, "c->a");
        g.add_edge(d, a, "d->a");
        let cycles = g.dependency_order().unwrap_err();
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].nodes, vec![a, b, c]);
        let labels: Vec<_> = cycles[0].edges.iter().map(|e| *g.edge(*e)).collect();
        assert_eq!(labels, vec!["a->b", "b->c", "c->a"]);
    }

    #[test]
    fn reports_a_self_loop() {
        let mut g: Dag<&str, ()> = Dag::new();
        let a = g.add_node("a");
        g.add_edge(a, a, ());
        let cycles = g.cycles();
        assert_eq!(cycles[0].nodes, vec![a]);
    }

    #[tokio::test]
    async fn walk_respects_order_and_skips_after_failure() {
        let (g, ids) = chain();
        let seen = RefCell::new(Vec::new());
        let stop = AtomicBool::new(false);
        let report = g
            .walk(WalkOrder::Dependencies, 4, &stop, |id| {
                seen.borrow_mut().push(id);
                let fail = id == ids[2];
                async move { if fail { Err("boom") } else { Ok(()) } }
            })
            .await;
        assert_eq!(*seen.borrow(), vec![ids[0], ids[1], ids[2]]);
        assert_eq!(report.completed.len(), 2);
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.skipped, vec![ids[3]]);
    }

    #[tokio::test]
    async fn reverse_walk_runs_dependents_first() {
        let (g, ids) = chain();
        let seen = RefCell::new(Vec::new());
        let stop = AtomicBool::new(false);
        let report = g
            .walk(WalkOrder::Dependents, 2, &stop, |id| {
                seen.borrow_mut().push(id);
                async { Ok::<_, ()>(()) }
            })
            .await;
        assert!(report.is_success());
        let mut expected = ids.clone();
        expected.reverse();
        assert_eq!(*seen.borrow(), expected);
    }

    #[tokio::test]
    async fn stop_lets_running_nodes_finish_and_starts_no_more() {
        let (g, ids) = chain();
        let stop = AtomicBool::new(false);
        let report = g
            .walk(WalkOrder::Dependencies, 1, &stop, |id| {
                if id == ids[1] {
                    stop.store(true, Ordering::SeqCst);
                }
                async { Ok::<_, ()>(()) }
            })
            .await;
        assert_eq!(report.completed.len(), 2);
        assert_eq!(report.not_started.len() + report.skipped.len(), 2);
    }

    #[tokio::test]
    async fn walk_bounds_parallelism() {
        let mut g: Dag<(), ()> = Dag::new();
        for _ in 0..20 {
            g.add_node(());
        }
        let current = std::sync::atomic::AtomicUsize::new(0);
        let peak = std::sync::atomic::AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let report = g
            .walk(WalkOrder::Dependencies, 3, &stop, |_| {
                let current = &current;
                let peak = &peak;
                async move {
                    let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    current.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, ()>(())
                }
            })
            .await;
        assert_eq!(report.completed.len(), 20);
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }
}
