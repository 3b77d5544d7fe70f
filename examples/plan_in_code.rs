//! Builds the quickstart stack in Rust instead of TOML, plans it against empty state and
//! reads the plan as data.
//!
//! Run: `cargo run -p omniform --example plan_in_code`

#![allow(clippy::print_stdout)]

use omniform::build::{
    OmniformData, RandomId, RandomPassword, ResourceDef, StackBuilder, count_index,
};
use omniform::{Action, Engine, Value, VarType};

fn main() -> Result<(), omniform::Diagnostics> {
    let mut stack = StackBuilder::new("quickstart-in-code");
    let domain = stack.variable("domain", VarType::String, Some("example.com".into()), false);

    let network = stack.add(
        OmniformData::new("network").input(Value::map([("cidr", "10.0.0.0/16"), ("name", "net")])),
    );
    let servers = stack.add(
        OmniformData::new("server")
            .count(2)
            .input(Value::map([
                (
                    "name",
                    omniform::build::Ref::interpolate("srv-{}", &count_index()),
                ),
                ("net", network.id().into()),
                ("cidr", network.attr("output").into()),
            ]))
            .triggers_replace(Value::List(vec![domain.into()]))
            .create_before_destroy(true),
    );
    let key = stack.add(RandomId::new("encryption_key", 16).rotate_after_days(90));
    let secret = stack.add(RandomPassword::new("cron_secret", 32).special(false));
    stack.add(OmniformData::new("app_config").input(Value::map([
        ("encryption_key", Value::from(key.hex())),
        ("cron_secret", secret.result().into()),
    ])));
    stack.output("server_ids", servers.all().id(), false);

    let stack = stack.build()?;
    let plan = Engine::new().plan_fresh(&stack)?;

    let summary = plan.summary();
    println!(
        "{} to add, {} to change, {} to destroy",
        summary.add, summary.change, summary.destroy
    );
    for change in plan.changes.iter().filter(|c| c.action == Action::Create) {
        let unknown: Vec<String> = change
            .after
            .as_ref()
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.is_unknown())
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "+ {} (known after apply: {})",
            change.address,
            unknown.join(", ")
        );
    }
    Ok(())
}
