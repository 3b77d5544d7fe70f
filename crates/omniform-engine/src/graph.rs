//! The dependency graph of a stack's resource blocks, from references and `depends_on`.

use std::collections::HashMap;

use omniform_core::{Diagnostic, Diagnostics, ResourceAddress};
use omniform_graph::{Dag, NodeId};
use omniform_stack::{Span, Stack};

/// How one block came to depend on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Reference,
    DependsOn,
}

/// One "depends on" edge, with where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeInfo {
    pub kind: EdgeKind,
    pub span: Span,
}

/// The block-level graph of a stack.
#[derive(Debug, Clone)]
pub struct StackGraph {
    pub dag: Dag<ResourceAddress, EdgeInfo>,
    pub index: HashMap<ResourceAddress, NodeId>,
}

impl StackGraph {
    /// Builds the graph; references to undeclared resources are left out (validation
    /// reports them).
    pub fn build(stack: &Stack) -> Self {
        let mut dag = Dag::with_capacity(stack.resources.len(), stack.resources.len() * 2);
        let mut index = HashMap::with_capacity(stack.resources.len());
        for r in stack.resources.values() {
            index.insert(r.addr.clone(), dag.add_node(r.addr.clone()));
        }
        for r in stack.resources.values() {
            let from = index[&r.addr];
            let mut seen: Vec<NodeId> = Vec::new();
            for reference in r.references() {
                if let Some(to) = reference.resource().and_then(|a| index.get(a))
                    && !seen.contains(to)
                {
                    seen.push(*to);
                    dag.add_edge(
                        from,
                        *to,
                        EdgeInfo {
                            kind: EdgeKind::Reference,
                            span: reference.span,
                        },
                    );
                }
            }
            for (addr, span) in &r.depends_on {
                if let Some(to) = index.get(addr)
                    && !seen.contains(to)
                {
                    seen.push(*to);
                    dag.add_edge(
                        from,
                        *to,
                        EdgeInfo {
                            kind: EdgeKind::DependsOn,
                            span: *span,
                        },
                    );
                }
            }
        }
        Self { dag, index }
    }

    /// The direct dependencies of a block, sorted.
    pub fn dependencies_of(&self, addr: &ResourceAddress) -> Vec<ResourceAddress> {
        let Some(id) = self.index.get(addr) else {
            return Vec::new();
        };
        let mut deps: Vec<ResourceAddress> = self
            .dag
            .dependencies(*id)
            .map(|d| self.dag.node(d).clone())
            .collect();
        deps.sort();
        deps
    }

    /// Blocks in an order where each comes after everything it depends on, or a diagnostic
    /// per cycle, each printed as a path of addresses with where each edge is written.
    pub fn order(&self, stack: &Stack) -> Result<Vec<NodeId>, Diagnostics> {
        self.dag.dependency_order().map_err(|cycles| {
            let mut diags = Diagnostics::new();
            for cycle in cycles {
                let mut path: Vec<String> = cycle.nodes.iter().map(|n| self.dag.node(*n).to_string()).collect();
                path.push(path[0].clone());
                let mut detail = Vec::new();
                for (i, edge) in cycle.edges.iter().enumerate() {
                    let info = self.dag.edge(*edge);
                    let from = self.dag.node(cycle.nodes[i]);
                    let to = self.dag.node(cycle.nodes[(i + 1) % cycle.nodes.len()]);
                    let how = match info.kind {
                        EdgeKind::Reference => "references",
                        EdgeKind::DependsOn => "depends_on",
                    };
                    let at = stack.locate(info.span).map(|l| format!(" at {}:{}", l.file, l.line)).unwrap_or_default();
                    detail.push(format!("  {from} {how} {to}{at}"));
                }
                let first = self.dag.edge(cycle.edges[0]);
                diags.push(
                    Diagnostic::error(format!("dependency cycle: {}", path.join(" -> ")))
                        .with_detail(detail.join("\n"))
                        .with_address(self.dag.node(cycle.nodes[0]))
                        .with_location(stack.locate(first.span))
                        .with_hint("break the cycle by removing one of these references or depends_on entries"),
                );
            }
            diags
        })
    }
}
