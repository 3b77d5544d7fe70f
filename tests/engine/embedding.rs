//! A stack built in code plans like the same stack written in TOML.

use omniform::build::{OmniformData, RandomId, ResourceDef, StackBuilder};
use omniform::{Engine, Value, VarType};

#[test]
fn code_and_toml_give_the_same_plan() {
    let mut b = StackBuilder::new("quick");
    let domain = b.variable("domain", VarType::String, Some("example.com".into()), false);
    let net = b.add(OmniformData::new("network").input(Value::map([("cidr", "10.0.0.0/16")])));
    let srv = b.add(
        OmniformData::new("server")
            .count(2)
            .input(Value::map([
                ("net", Value::from(net.id())),
                ("cidr", net.attr("output").into()),
            ]))
            .triggers_replace(Value::List(vec![domain.into()]))
            .create_before_destroy(true),
    );
    b.add(RandomId::new("key", 16).rotate_after_days(90));
    b.output("ids", srv.all().id(), false);
    let from_code = Engine::new().plan_fresh(&b.build().unwrap()).unwrap();

    let toml = r#"
[stack]
name = "quick"

[variable.domain]
type = "string"
default = "example.com"

[resource.omniform_data.network]
input = { cidr = "10.0.0.0/16" }

[resource.omniform_data.server]
count = 2
input = { net = "${omniform_data.network.id}", cidr = "${omniform_data.network.output}" }
triggers_replace = ["${var.domain}"]

[resource.omniform_data.server.lifecycle]
create_before_destroy = true

[resource.random_id.key]
byte_length = 16
rotate_after_days = 90

[output.ids]
value = "${omniform_data.server[*].id}"
"#;
    let from_toml = Engine::new()
        .plan_fresh(&omniform_tests::stack(toml).unwrap())
        .unwrap();
    let strip = |p: &omniform::Plan| (p.changes.clone(), p.outputs.clone(), p.variables.clone());
    assert_eq!(strip(&from_code), strip(&from_toml));
    assert_eq!(from_code.summary().add, 4);
}
