//! The plan as a pull-request comment: the summary first, a warning when anything is
//! destroyed or replaced, the addresses per action, and a collapsible diff per resource,
//! all kept under GitHub's 65,536-character comment limit.

use omniform_core::{Action, Plan, ResourceChange};

use crate::style::Style;
use crate::text;

/// GitHub's limit on the length of a comment, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Turns Terraform-style text into a `diff` block: the action symbol moves to the first
/// column so GitHub colours it (`~` and replacements become `!`).
fn as_diff(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let (symbol, rest) = ["-/+ ", "+/- ", "+ ", "- ", "~ "]
            .iter()
            .find_map(|s| trimmed.strip_prefix(s).map(|rest| (s.trim_end(), rest)))
            .unwrap_or(("", trimmed));
        let mark = match symbol {
            "+" => "+",
            "-" => "-",
            "~" | "-/+" | "+/-" => "!",
            _ => " ",
        };
        let pad = if symbol.is_empty() {
            indent
        } else {
            indent + symbol.len() + 1
        };
        out.push_str(mark);
        out.push_str(&" ".repeat(pad.saturating_sub(1)));
        out.push_str(rest);
        out.push('\n');
    }
    out
}

fn label(a: Action) -> &'static str {
    match a {
        Action::Create => "Create",
        Action::Update => "Update in place",
        Action::DeleteThenCreate => "Replace (destroy, then create)",
        Action::CreateThenDelete => "Replace (create, then destroy)",
        Action::Delete => "Destroy",
        Action::Read => "Read",
        Action::NoOp => "No change",
    }
}

fn details(change: &ResourceChange) -> String {
    let block = text::resource_block(change, Style::PLAIN);
    format!(
        "<details><summary><code>{} {}</code> {}</summary>\n\n```diff\n{}```\n\n</details>\n",
        change.action.symbol(),
        change.address,
        change.action.phrase(),
        as_diff(&block)
    )
}

fn count(s: &str) -> usize {
    s.chars().count()
}

/// The comment, kept under [`COMMENT_LIMIT`].
pub fn plan(plan: &Plan) -> String {
    plan_with_limit(plan, COMMENT_LIMIT)
}

/// The comment, kept under `limit` characters; what is cut is said at the end.
pub fn plan_with_limit(plan: &Plan, limit: usize) -> String {
    let summary = text::summary_line(plan);
    let actionable: Vec<&ResourceChange> = plan.actionable().collect();
    let mut head = format!(
        "### Omniform plan for `{}`\n\n**{summary}**\n\n",
        plan.stack
    );

    let destructive: Vec<&&ResourceChange> =
        actionable.iter().filter(|c| c.action.destroys()).collect();
    if !destructive.is_empty() {
        let deleted = destructive
            .iter()
            .filter(|c| c.action == Action::Delete)
            .count();
        let replaced = destructive.len() - deleted;
        head.push_str(&format!(
            "> [!CAUTION]\n> This plan destroys {deleted} resource{} and replaces {replaced}.\n",
            if deleted == 1 { "" } else { "s" }
        ));
        for c in destructive.iter().take(50) {
            let why = if c.replace_paths.is_empty() {
                c.reason_detail
                    .clone()
                    .or_else(|| c.reason.map(|r| r.code().to_string()))
            } else {
                Some(format!(
                    "forced by {}",
                    c.replace_paths
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            };
            head.push_str(&format!(
                "> - `{}` {}{}\n",
                c.address,
                c.action.phrase(),
                why.map(|w| format!(" ({w})")).unwrap_or_default()
            ));
        }
        if destructive.len() > 50 {
            head.push_str(&format!("> - … and {} more\n", destructive.len() - 50));
        }
        head.push('\n');
    }

    let mut lists = String::new();
    for action in [
        Action::Create,
        Action::Update,
        Action::DeleteThenCreate,
        Action::CreateThenDelete,
        Action::Delete,
    ] {
        let addrs: Vec<String> = actionable
            .iter()
            .filter(|c| c.action == action)
            .map(|c| format!("`{}`", c.address))
            .collect();
        if !addrs.is_empty() {
            lists.push_str(&format!(
                "**{}** ({}): {}\n\n",
                label(action),
                addrs.len(),
                addrs.join(", ")
            ));
        }
    }
    if !plan.drift.is_empty() {
        let addrs: Vec<String> = plan
            .drift
            .iter()
            .map(|c| format!("`{}`", c.address))
            .collect();
        lists.push_str(&format!(
            "**Changed outside omniform** ({}): {}\n\n",
            addrs.len(),
            addrs.join(", ")
        ));
    }

    let mut blocks: Vec<String> = actionable.iter().map(|c| details(c)).collect();
    let outputs: Vec<String> = plan
        .outputs
        .iter()
        .filter(|o| o.action != Action::NoOp)
        .map(|o| {
            let after = o
                .after
                .as_ref()
                .map(crate::value::compact)
                .unwrap_or_else(|| "null".into());
            let after = if o.sensitive {
                crate::value::SENSITIVE.to_string()
            } else {
                after
            };
            format!("{} {} = {after}", o.action.symbol(), o.name)
        })
        .collect();
    if !outputs.is_empty() {
        blocks.push(format!(
            "<details><summary>Changes to outputs ({})</summary>\n\n```diff\n{}\n```\n\n</details>\n",
            outputs.len(),
            outputs.join("\n").replace("~ ", "! ")
        ));
    }

    // Reserve room for the note that says what was cut.
    let reserve = 300;
    let budget = limit.saturating_sub(reserve);
    if count(&head) + count(&lists) > budget {
        // Even the lists do not fit: keep the first addresses of each.
        let mut cut = String::new();
        for line in lists.lines().filter(|l| !l.is_empty()) {
            let keep: String = line.chars().take(2000).collect();
            cut.push_str(&keep);
            if count(line) > 2000 {
                cut.push_str(" …");
            }
            cut.push_str("\n\n");
        }
        lists = cut;
    }
    let mut body = format!("{head}{lists}");
    let mut left_out = 0;
    let mut used = count(&body);
    for block in &blocks {
        let n = count(block) + 1;
        if used + n <= budget && left_out == 0 {
            body.push_str(block);
            body.push('\n');
            used += n;
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        body.push_str(&format!(
            "_{left_out} of {} diffs were left out to keep this comment under GitHub's {limit}-character limit; run `omniform plan` to see the whole plan._\n",
            blocks.len()
        ));
    }
    if count(&body) > limit {
        // A pathological head; cut hard rather than post nothing.
        body = body.chars().take(limit.saturating_sub(80)).collect();
        body.push_str("\n\n_…cut to stay under GitHub's comment limit._\n");
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_moves_symbols_to_the_first_column() {
        let text = "  # a.b will be created\n  + resource \"a\" \"b\" {\n      + id = (known after apply)\n      ~ x  = 1 -> 2\n    }\n-/+ resource\n";
        assert_eq!(
            as_diff(text),
            "  # a.b will be created\n+   resource \"a\" \"b\" {\n+       id = (known after apply)\n!       x  = 1 -> 2\n    }\n!   resource\n"
        );
    }
}
