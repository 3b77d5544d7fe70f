//! The plan as text, the way Terraform prints it: a legend of symbols, one block per
//! resource with its attribute diff, output changes, and the summary line.

use std::collections::BTreeMap;

use omniform_core::{
    Action, ActionReason, AttrPath, InstanceKey, OutputChange, PathStep, Plan, PlanMode,
    ResourceChange, Value,
};
use similar::{ChangeTag, TextDiff};

use crate::style::Style;
use crate::value::{SENSITIVE, compact, inline, is_multiline, key};

/// What the product calls itself in plan text.
const PRODUCT: &str = "Omniform";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    Add,
    Remove,
    Change,
    Same,
}

impl Sym {
    fn text(self) -> &'static str {
        match self {
            Sym::Add => "+",
            Sym::Remove => "-",
            Sym::Change => "~",
            Sym::Same => " ",
        }
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn classify(before: Option<&Value>, after: Option<&Value>) -> Sym {
    match (present(before), present(after)) {
        (None, Some(_)) => Sym::Add,
        (Some(_), None) => Sym::Remove,
        (Some(b), Some(a)) if b == a && a.is_wholly_known() => Sym::Same,
        _ => Sym::Change,
    }
}

/// A plain (unmarked, known, non-null) map or list, which renders as a nested block.
fn as_map(v: Option<&Value>) -> Option<&BTreeMap<String, Value>> {
    match present(v)? {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

fn as_list(v: Option<&Value>) -> Option<&[Value]> {
    match present(v)? {
        Value::List(l) => Some(l),
        _ => None,
    }
}

struct Writer<'a> {
    style: Style,
    lines: Vec<String>,
    replace_paths: &'a [AttrPath],
    /// Show values as they are, without change symbols (`state show`).
    plain: bool,
}

impl Writer<'_> {
    fn sym(&self, s: Sym) -> String {
        if self.plain {
            return " ".into();
        }
        self.style.symbol(s.text())
    }

    fn push(&mut self, line: String) {
        self.lines.push(line);
    }

    fn forces(&self, path: &AttrPath) -> String {
        if self.replace_paths.contains(path) {
            format!(" {}", self.style.red("# forces replacement"))
        } else {
            String::new()
        }
    }

    /// The entries of a map at `indent` (the column of their symbols).
    fn map_body(
        &mut self,
        before: Option<&BTreeMap<String, Value>>,
        after: Option<&BTreeMap<String, Value>>,
        indent: usize,
        path: &mut AttrPath,
        always_show: &[&str],
        noun: &str,
    ) {
        let empty = BTreeMap::new();
        let b = before.unwrap_or(&empty);
        let a = after.unwrap_or(&empty);
        let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut shown = Vec::new();
        let mut hidden = 0;
        for k in keys {
            let (bv, av) = (b.get(k), a.get(k));
            if present(bv).is_none() && present(av).is_none() {
                continue;
            }
            let sym = classify(bv, av);
            if sym == Sym::Same
                && before.is_some()
                && after.is_some()
                && !always_show.contains(&k.as_str())
            {
                hidden += 1;
                continue;
            }
            shown.push((k, bv, av));
        }
        let width = shown
            .iter()
            .map(|(k, _, _)| key(k).chars().count())
            .max()
            .unwrap_or(0);
        for (k, bv, av) in shown {
            path.push(PathStep::Key(k.clone()));
            self.entry(indent, &key(k), width, bv, av, path);
            path.pop();
        }
        if hidden > 0 {
            let plural = if hidden == 1 { "" } else { "s" };
            let text = format!("# ({hidden} unchanged {noun}{plural} hidden)");
            self.push(format!(
                "{}{}",
                " ".repeat(indent + 2),
                self.style.dim(&text)
            ));
        }
    }

    fn entry(
        &mut self,
        indent: usize,
        k: &str,
        width: usize,
        before: Option<&Value>,
        after: Option<&Value>,
        path: &mut AttrPath,
    ) {
        let sym = classify(before, after);
        let prefix = format!("{}{} {:<width$} = ", " ".repeat(indent), self.sym(sym), k);
        let forces = self.forces(path);
        let (bm, am) = (as_map(before), as_map(after));
        let (bl, al) = (as_list(before), as_list(after));
        let both_or_one = |b: bool, a: bool| match sym {
            Sym::Add => a,
            Sym::Remove => b,
            _ => a && b,
        };
        if both_or_one(bm.is_some(), am.is_some())
            && !(bm.is_some_and(|m| m.is_empty()) || am.is_some_and(|m| m.is_empty()))
        {
            self.push(format!("{prefix}{{{forces}"));
            self.map_body(bm, am, indent + 4, path, &[], "element");
            self.push(format!("{}}}", " ".repeat(indent + 2)));
            return;
        }
        if both_or_one(bl.is_some(), al.is_some())
            && !(bl.is_some_and(|l| l.is_empty()) || al.is_some_and(|l| l.is_empty()))
        {
            self.push(format!("{prefix}[{forces}"));
            self.list_body(sym, bl, al, indent + 4, path);
            self.push(format!("{}]", " ".repeat(indent + 2)));
            return;
        }
        // A structure that becomes unknown (or secret) shows what goes away, then what
        // comes instead.
        if sym == Sym::Change
            && present(before).is_some_and(|b| inline(b).is_none())
            && present(after).is_some_and(|a| inline(a).is_some())
        {
            let after_text = inline(after.expect("present")).unwrap_or_default();
            let old = present(before).expect("present");
            match old {
                Value::Map(m) => {
                    self.push(format!("{prefix}{{{forces}"));
                    self.map_body(Some(m), None, indent + 4, path, &[], "element");
                    self.push(format!("{}}} -> {after_text}", " ".repeat(indent + 2)));
                }
                Value::List(l) => {
                    self.push(format!("{prefix}[{forces}"));
                    self.list_body(Sym::Remove, Some(l), None, indent + 4, path);
                    self.push(format!("{}] -> {after_text}", " ".repeat(indent + 2)));
                }
                _ => {
                    self.push(format!("{prefix}<<-EOT{forces}"));
                    self.heredoc(old.as_str().unwrap_or(""), "", Sym::Remove, indent);
                    self.push(format!("{}EOT -> {after_text}", " ".repeat(indent + 2)));
                }
            }
            return;
        }
        let strings = (
            present(before)
                .and_then(Value::as_str)
                .filter(|_| !before.is_some_and(Value::is_sensitive)),
            present(after)
                .and_then(Value::as_str)
                .filter(|_| !after.is_some_and(Value::is_sensitive)),
        );
        let multiline =
            present(before).is_some_and(is_multiline) || present(after).is_some_and(is_multiline);
        if multiline
            && !matches!(present(before), Some(v) if v.as_str().is_none())
            && !matches!(present(after), Some(v) if v.as_str().is_none())
        {
            self.push(format!("{prefix}<<-EOT{forces}"));
            self.heredoc(
                strings.0.unwrap_or(""),
                strings.1.unwrap_or(""),
                sym,
                indent,
            );
            self.push(format!("{}EOT", " ".repeat(indent + 2)));
            return;
        }
        let show = |v: Option<&Value>| {
            present(v)
                .map(|v| inline(v).unwrap_or_else(|| compact(v)))
                .unwrap_or_else(|| "null".into())
        };
        let text = match sym {
            Sym::Add | Sym::Same => show(after),
            Sym::Remove => format!("{} -> null", show(before)),
            Sym::Change => {
                let (b, a) = (show(before), show(after));
                if before.is_some_and(Value::is_sensitive) && after.is_some_and(Value::is_sensitive)
                {
                    SENSITIVE.to_string()
                } else {
                    format!("{b} -> {a}")
                }
            }
        };
        self.push(format!("{prefix}{text}{forces}"));
    }

    fn heredoc(&mut self, before: &str, after: &str, sym: Sym, indent: usize) {
        let body = " ".repeat(indent + 4);
        match sym {
            Sym::Add | Sym::Same => {
                for line in after.lines() {
                    self.push(format!("{body}{line}"));
                }
            }
            Sym::Remove => {
                for line in before.lines() {
                    self.push(format!("{body}{line}"));
                }
            }
            Sym::Change => {
                let diff = TextDiff::from_lines(before, after);
                for change in diff.iter_all_changes() {
                    let line = change.value().trim_end_matches('\n');
                    let marker = " ".repeat(indent + 2);
                    match change.tag() {
                        ChangeTag::Equal => self.push(format!("{body}{line}")),
                        ChangeTag::Delete => {
                            self.push(format!("{marker}{} {line}", self.sym(Sym::Remove)))
                        }
                        ChangeTag::Insert => {
                            self.push(format!("{marker}{} {line}", self.sym(Sym::Add)))
                        }
                    }
                }
            }
        }
    }

    fn list_body(
        &mut self,
        sym: Sym,
        before: Option<&[Value]>,
        after: Option<&[Value]>,
        indent: usize,
        path: &mut AttrPath,
    ) {
        let item = |w: &mut Self, s: Sym, v: &Value, i: usize, path: &mut AttrPath| {
            path.push(PathStep::Index(i));
            match as_map(Some(v)) {
                Some(m) if !m.is_empty() => {
                    let (b, a) = if s == Sym::Remove {
                        (Some(m), None)
                    } else {
                        (None, Some(m))
                    };
                    w.push(format!("{}{} {{", " ".repeat(indent), w.sym(s)));
                    w.map_body(b, a, indent + 4, path, &[], "element");
                    w.push(format!("{}}},", " ".repeat(indent + 2)));
                }
                _ => {
                    let text = inline(v).unwrap_or_else(|| compact(v));
                    w.push(format!("{}{} {text},", " ".repeat(indent), w.sym(s)));
                }
            }
            path.pop();
        };
        match sym {
            Sym::Add | Sym::Same => {
                for (i, v) in after.unwrap_or(&[]).iter().enumerate() {
                    item(self, sym, v, i, path);
                }
            }
            Sym::Remove => {
                for (i, v) in before.unwrap_or(&[]).iter().enumerate() {
                    item(self, sym, v, i, path);
                }
            }
            Sym::Change => {
                let b = before.unwrap_or(&[]);
                let a = after.unwrap_or(&[]);
                let mut hidden = 0;
                if b.len() == a.len() && a.iter().chain(b).all(|v| as_map(Some(v)).is_some()) {
                    for (i, (x, y)) in b.iter().zip(a).enumerate() {
                        if x == y && y.is_wholly_known() {
                            hidden += 1;
                            continue;
                        }
                        path.push(PathStep::Index(i));
                        self.push(format!(
                            "{}{} {{",
                            " ".repeat(indent),
                            self.sym(Sym::Change)
                        ));
                        self.map_body(
                            as_map(Some(x)),
                            as_map(Some(y)),
                            indent + 4,
                            path,
                            &[],
                            "attribute",
                        );
                        self.push(format!("{}}},", " ".repeat(indent + 2)));
                        path.pop();
                    }
                } else {
                    let bs: Vec<String> = b.iter().map(compact).collect();
                    let as_: Vec<String> = a.iter().map(compact).collect();
                    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &bs, &as_);
                    for op in ops {
                        for (tag, old, new) in op
                            .iter_changes(&bs, &as_)
                            .map(|c| (c.tag(), c.old_index(), c.new_index()))
                        {
                            match tag {
                                ChangeTag::Equal => hidden += 1,
                                ChangeTag::Delete => {
                                    let i = old.unwrap_or(0);
                                    item(self, Sym::Remove, &b[i], i, path);
                                }
                                ChangeTag::Insert => {
                                    let i = new.unwrap_or(0);
                                    item(self, Sym::Add, &a[i], i, path);
                                }
                            }
                        }
                    }
                }
                if hidden > 0 {
                    let plural = if hidden == 1 { "" } else { "s" };
                    let text = format!("# ({hidden} unchanged element{plural} hidden)");
                    self.push(format!(
                        "{}{}",
                        " ".repeat(indent + 2),
                        self.style.dim(&text)
                    ));
                }
            }
        }
    }
}

/// The comment under a resource header that says why it is replaced or deleted.
fn reason_line(change: &ResourceChange) -> Option<String> {
    if let Some(detail) = &change.reason_detail {
        return Some(format!("# ({detail})"));
    }
    let key = change
        .address
        .key
        .as_ref()
        .map(|k| k.to_string())
        .unwrap_or_default();
    Some(match change.reason? {
        ActionReason::DeleteBecauseNoResourceConfig => format!(
            "# (because {} is not in the stack)",
            change.address.resource
        ),
        ActionReason::DeleteBecauseCountIndex => {
            format!("# (because index {key} is out of range for count)")
        }
        ActionReason::DeleteBecauseEachKey => format!("# (because key {key} is not in for_each)"),
        ActionReason::DeleteBecauseWrongRepetition => {
            let how = match change.address.key {
                None => "has count or for_each now",
                Some(InstanceKey::Int(_)) => "no longer uses count",
                Some(InstanceKey::Str(_)) => "no longer uses for_each",
            };
            format!("# (because {} {how})", change.address.resource)
        }
        ActionReason::CreateBecauseDeletedOutside => {
            "# (because it was deleted outside omniform)".to_string()
        }
        _ => return None,
    })
}

fn header_phrase(change: &ResourceChange) -> &'static str {
    match (change.action, change.reason) {
        (a, Some(ActionReason::ReplaceBecauseTainted)) if a.is_replace() => {
            "is tainted, so must be replaced"
        }
        (a, Some(ActionReason::ReplaceByRequest)) if a.is_replace() => {
            "will be replaced, as requested"
        }
        (a, _) => a.phrase(),
    }
}

/// A resource instance as state records it, like `terraform state show`.
pub fn resource_state(
    address: &omniform_core::InstanceAddress,
    value: &Value,
    style: Style,
) -> String {
    let mut w = Writer {
        style,
        lines: Vec::new(),
        replace_paths: &[],
        plain: true,
    };
    w.push(style.bold(&format!("# {address}:")));
    w.push(format!(
        "resource {} {} {{",
        crate::value::quote(&address.resource.type_name),
        crate::value::quote(&address.resource.name)
    ));
    w.map_body(
        None,
        as_map(Some(value)),
        2,
        &mut AttrPath::root(),
        &[],
        "attribute",
    );
    w.push("}".into());
    let mut out = w.lines.join("\n");
    out.push('\n');
    out
}

/// An output's value on one or more lines, masked when sensitive.
pub fn output_value(value: &Value, sensitive: bool) -> String {
    fn pretty(v: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent + 2);
        match v {
            Value::List(items) if !items.is_empty() => {
                out.push_str("[\n");
                for item in items {
                    out.push_str(&pad);
                    pretty(item, indent + 2, out);
                    out.push_str(",\n");
                }
                out.push_str(&" ".repeat(indent));
                out.push(']');
            }
            Value::Map(items) if !items.is_empty() => {
                out.push_str("{\n");
                let width = items
                    .keys()
                    .map(|k| key(k).chars().count())
                    .max()
                    .unwrap_or(0);
                for (k, item) in items {
                    out.push_str(&format!("{pad}{:<width$} = ", key(k)));
                    pretty(item, indent + 2, out);
                    out.push('\n');
                }
                out.push_str(&" ".repeat(indent));
                out.push('}');
            }
            other => out.push_str(&inline(other).unwrap_or_else(|| compact(other))),
        }
    }
    if sensitive || value.is_sensitive() {
        return "<sensitive>".into();
    }
    let mut out = String::new();
    pretty(value, 0, &mut out);
    out
}

/// One resource's block: header comment, `resource "type" "name" {`, its diff, `}`.
pub fn resource_block(change: &ResourceChange, style: Style) -> String {
    resource_block_with(change, style, header_phrase(change))
}

fn resource_block_with(change: &ResourceChange, style: Style, phrase: &str) -> String {
    let mut w = Writer {
        style,
        lines: Vec::new(),
        replace_paths: &change.replace_paths,
        plain: false,
    };
    let deposed = change
        .deposed
        .as_ref()
        .map(|k| format!(" (deposed object {k})"))
        .unwrap_or_default();
    w.push(format!(
        "  {}",
        style.bold(&format!("# {}{deposed} {phrase}", change.address))
    ));
    if let Some(reason) = reason_line(change) {
        w.push(format!("  {reason}"));
    }
    let symbol = match change.action {
        Action::NoOp => " ",
        a => a.symbol(),
    };
    w.push(format!(
        "{} resource {} {} {{",
        padded_symbol(style, symbol),
        crate::value::quote(&change.address.resource.type_name),
        crate::value::quote(&change.address.resource.name),
    ));
    let before = as_map(change.before.as_ref());
    let after = as_map(change.after.as_ref());
    let (b, a) = match change.action {
        Action::Create => (None, after),
        Action::Delete => (before, None),
        _ => (before, after),
    };
    let mut path = AttrPath::root();
    w.map_body(b, a, 6, &mut path, &["id", "name"], "attribute");
    w.push("    }".into());
    w.lines.join("\n")
}

/// An action symbol right-aligned in three columns, coloured after padding so the codes do
/// not count as width.
fn padded_symbol(style: Style, symbol: &str) -> String {
    format!(
        "{}{}",
        " ".repeat(3usize.saturating_sub(symbol.len())),
        style.symbol(symbol)
    )
}

fn output_lines(outputs: &[OutputChange], style: Style) -> Vec<String> {
    let shown: Vec<&OutputChange> = outputs
        .iter()
        .filter(|o| o.action != Action::NoOp)
        .collect();
    let width = shown
        .iter()
        .map(|o| key(&o.name).chars().count())
        .max()
        .unwrap_or(0);
    let mut w = Writer {
        style,
        lines: Vec::new(),
        replace_paths: &[],
        plain: false,
    };
    for o in shown {
        let mut path = AttrPath::root();
        let (b, a) = match o.action {
            Action::Create => (None, o.after.as_ref()),
            Action::Delete => (o.before.as_ref(), None),
            _ => (o.before.as_ref(), o.after.as_ref()),
        };
        // An output that is entirely unknown shows as such even when it was absent.
        w.entry(2, &key(&o.name), width, b, a, &mut path);
    }
    w.lines
}

fn legend(plan: &Plan, style: Style) -> Vec<String> {
    let used: Vec<Action> = [
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::DeleteThenCreate,
        Action::CreateThenDelete,
    ]
    .into_iter()
    .filter(|a| plan.changes.iter().any(|c| c.action == *a))
    .collect();
    let mut lines = vec![
        format!("{PRODUCT} used the selected providers to generate the following execution plan."),
        "Resource actions are indicated with the following symbols:".to_string(),
    ];
    for a in used {
        let what = match a {
            Action::Create => "create",
            Action::Update => "update in-place",
            Action::Delete => "destroy",
            Action::DeleteThenCreate => "destroy and then create replacement",
            Action::CreateThenDelete => "create replacement and then destroy",
            _ => continue,
        };
        lines.push(format!("{} {what}", padded_symbol(style, a.symbol())));
    }
    lines
}

/// Drift: what changed outside omniform, before the planned changes.
pub fn drift_section(plan: &Plan, style: Style) -> Option<String> {
    if plan.drift.is_empty() {
        return None;
    }
    let mut out = vec![
        style.bold(&format!("Note: Objects have changed outside of {PRODUCT}")),
        String::new(),
        format!(
            "{PRODUCT} detected the following changes made outside of {PRODUCT} since the last \"omniform apply\":"
        ),
        String::new(),
    ];
    for d in &plan.drift {
        let phrase = if d.action == Action::Delete {
            "has been deleted"
        } else {
            "has changed"
        };
        out.push(resource_block_with(d, style, phrase));
        out.push(String::new());
    }
    if plan.mode == PlanMode::RefreshOnly {
        out.push(format!(
            "This is a refresh-only plan, so {PRODUCT} will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the {PRODUCT} state without changing any remote objects."
        ));
    } else {
        out.push(
            "Unless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.".to_string(),
        );
    }
    Some(out.join("\n"))
}

/// The summary line, like `Plan: 1 to add, 0 to change, 0 to destroy.`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    if plan.mode == PlanMode::Destroy {
        return format!("Plan: {s}.");
    }
    if s.add + s.change + s.destroy == 0 {
        if plan.has_changes() {
            return "No resource changes; only output values (or recorded state) will change."
                .to_string();
        }
        return "No changes. Your infrastructure matches the configuration.".to_string();
    }
    format!("Plan: {s}.")
}

/// The whole plan as text.
pub fn plan(plan: &Plan, style: Style) -> String {
    let mut out: Vec<String> = Vec::new();
    if let Some(drift) = drift_section(plan, style) {
        out.push(drift);
        out.push(String::new());
        out.push("─".repeat(77));
        out.push(String::new());
    }
    let actionable: Vec<&ResourceChange> = plan.actionable().collect();
    if plan.mode == PlanMode::RefreshOnly {
        if plan.drift.is_empty() {
            out.push(
                style.bold("No changes. Your infrastructure still matches the configuration."),
            );
            out.push(String::new());
            out.push(format!("{PRODUCT} has checked that the real remote objects still match the result of your most recent changes, and found no differences."));
        } else {
            out.push(format!(
                "Would you like to update the {PRODUCT} state to reflect these detected changes?"
            ));
        }
        return finish(out, plan, style);
    }
    if actionable.is_empty() {
        if plan.outputs.iter().any(|o| o.action != Action::NoOp) {
            out.push("Changes to Outputs:".to_string());
            out.extend(output_lines(&plan.outputs, style));
            out.push(String::new());
            out.push(format!(
                "You can apply this plan to save these new output values to the {PRODUCT} state, without changing any real infrastructure."
            ));
        } else {
            out.push(style.bold(&summary_line(plan)));
            out.push(String::new());
            out.push(format!(
                "{PRODUCT} has compared your real infrastructure against your configuration and found no differences, so no changes are needed."
            ));
        }
        return finish(out, plan, style);
    }
    out.extend(legend(plan, style));
    out.push(String::new());
    out.push(format!("{PRODUCT} will perform the following actions:"));
    out.push(String::new());
    for change in actionable {
        out.push(resource_block(change, style));
        out.push(String::new());
    }
    out.push(style.bold(&summary_line(plan)));
    if plan.outputs.iter().any(|o| o.action != Action::NoOp) {
        out.push(String::new());
        out.push("Changes to Outputs:".to_string());
        out.extend(output_lines(&plan.outputs, style));
    }
    finish(out, plan, style)
}

fn finish(mut out: Vec<String>, plan: &Plan, style: Style) -> String {
    for w in &plan.warnings {
        out.push(String::new());
        out.push(format!(
            "{} {}",
            style.yellow(&style.bold("Warning:")),
            style.bold(&w.summary)
        ));
        if let Some(d) = &w.detail {
            out.push(String::new());
            out.push(format!("  {d}"));
        }
        if let Some(h) = &w.hint {
            out.push(format!("  {h}"));
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}
