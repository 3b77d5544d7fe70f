//! Dependency graphs as Graphviz DOT or Mermaid.

/// A graph to draw: node labels and "depends on" edges between them.
#[derive(Debug, Clone, Default)]
pub struct GraphView {
    pub nodes: Vec<String>,
    /// (dependent, dependency)
    pub edges: Vec<(String, String)>,
}

/// Graphviz: `dot -Tsvg`. Edges point from a resource to what it depends on, as in
/// `terraform graph`.
pub fn dot(g: &GraphView) -> String {
    let mut out = String::from(
        "digraph {\n  compound = \"true\"\n  newrank = \"true\"\n  rankdir = \"RL\"\n",
    );
    for n in &g.nodes {
        out.push_str(&format!(
            "  {} [label = {}, shape = \"box\"]\n",
            crate::value::quote(n),
            crate::value::quote(n)
        ));
    }
    for (from, to) in &g.edges {
        out.push_str(&format!(
            "  {} -> {}\n",
            crate::value::quote(from),
            crate::value::quote(to)
        ));
    }
    out.push_str("}\n");
    out
}

/// Mermaid, which GitHub renders in Markdown.
pub fn mermaid(g: &GraphView) -> String {
    let id = |label: &str| {
        g.nodes
            .iter()
            .position(|n| n == label)
            .map(|i| format!("n{i}"))
            .unwrap_or_default()
    };
    let mut out = String::from("flowchart RL\n");
    for (i, n) in g.nodes.iter().enumerate() {
        out.push_str(&format!("  n{i}[\"{}\"]\n", n.replace('"', "#quot;")));
    }
    for (from, to) in &g.edges {
        out.push_str(&format!("  {} --> {}\n", id(from), id(to)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_both_formats() {
        let g = GraphView {
            nodes: vec!["a.x".into(), "b.y[\"k\"]".into()],
            edges: vec![("b.y[\"k\"]".into(), "a.x".into())],
        };
        assert!(dot(&g).contains("\"b.y[\\\"k\\\"]\" -> \"a.x\""));
        assert_eq!(
            mermaid(&g),
            "flowchart RL\n  n0[\"a.x\"]\n  n1[\"b.y[#quot;k#quot;]\"]\n  n1 --> n0\n"
        );
    }
}
