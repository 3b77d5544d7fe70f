//! Refresh at scale against moto: applies 1,000 AWS resources (300 security groups, 200
//! instances, 100 elastic IPs, a zone with 290 records, 55 secrets with 54 values), then
//! refreshes them and prints the API calls per service and the time taken, next to the one
//! call per resource that a per-resource refresh (Terraform's) makes.
//!
//! Run: `scripts/with-services cargo bench -p omniform-tests --bench refresh_aws`

#![allow(clippy::print_stdout)]

use std::time::Instant;

use omniform::state::StateStore;
use omniform::{Engine, PlanOptions, Snapshot, SourceFile, VariableInputs};

fn stack(endpoint: &str, account: &str) -> String {
    format!(
        r#"
[stack]
name = "refresh-bench"

[provider.aws]
region = "us-east-1"
endpoint_url = "{endpoint}"
access_key = "testing"
secret_key = "testing"
request_headers = {{ "x-moto-account-id" = "{account}" }}

[resource.aws_security_group.g]
count = 300
name = "g-${{count.index}}"

[[resource.aws_security_group.g.ingress]]
protocol = "tcp"
from_port = 443
to_port = 443
cidr_blocks = ["10.0.0.0/8"]

[resource.aws_instance.i]
count = 200
ami = "ami-0c7217cdde317cfec"
instance_type = "t3.small"
vpc_security_group_ids = ["${{aws_security_group.g[count.index].id}}"]

[resource.aws_eip.e]
count = 100
instance = "${{aws_instance.i[count.index].id}}"

[resource.aws_route53_zone.z]
name = "bench.test"

[resource.aws_route53_record.r]
count = 290
zone_id = "${{aws_route53_zone.z.zone_id}}"
name = "r${{count.index}}.bench.test"
type = "A"
ttl = 60
records = ["192.0.2.1"]

[resource.aws_secretsmanager_secret.s]
count = 55
name = "bench/s${{count.index}}"
recovery_window_in_days = 0

[resource.aws_secretsmanager_secret_version.v]
count = 54
secret_id = "${{aws_secretsmanager_secret.s[count.index].arn}}"
secret_string = "value-${{count.index}}"
"#
    )
}

fn main() {
    let endpoint =
        std::env::var("MOTO_ENDPOINT").expect("MOTO_ENDPOINT: run with scripts/with-services");
    let account = format!(
        "{}",
        200_000_000_000u64 + (std::process::id() as u64 * 7919) % 99_999_999_999
    );
    let text = stack(&endpoint, &account);
    let stack =
        omniform::parse_stack(SourceFile::new("bench.toml", text)).expect("the stack parses");
    let vars = omniform::resolve_variables(&stack, &VariableInputs::default()).expect("variables");
    let engine = Engine::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        omniform::state::LocalStore::open(dir.path(), "refresh-bench", Some("42".repeat(32)))
            .expect("store");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let apply = |plan: omniform::Plan, prior: Snapshot, operation: &'static str| {
        let (engine, store, stack, vars) = (&engine, &store, &stack, &vars);
        async move {
            let t = Instant::now();
            let mut opts = omniform::ApplyOptions::new(omniform::OffsetDateTime::now_utc());
            opts.parallelism = 20;
            let desired = omniform::Desired::Stack { stack, vars };
            let done = engine
                .apply_recorded(
                    store,
                    desired,
                    &plan,
                    &prior,
                    &prior,
                    operation,
                    &omniform::NoHooks,
                    &opts,
                )
                .await
                .expect("state is written");
            assert!(done.report.is_success(), "{:?}", done.report.failed.first());
            println!(
                "{operation} of 1,000 AWS resources against moto: {:.1} s (parallelism 20)",
                t.elapsed().as_secs_f64()
            );
        }
    };
    rt.block_on(async {
        let empty = Snapshot::empty("refresh-bench");
        let now = omniform::OffsetDateTime::now_utc();
        let plan = engine
            .plan(&stack, &vars, &empty, &PlanOptions::new(now))
            .expect("the plan");
        assert_eq!(plan.summary().add, 1000);
        engine
            .configure_for_plan(&stack, &vars, &plan)
            .await
            .expect("moto answers");
        apply(plan, empty, "apply").await;

        let prior = store.read_latest().expect("state").expect("state exists");
        let refreshed = engine
            .refresh_for(&stack, &vars, &prior, &omniform::NoHooks)
            .await
            .expect("refresh");
        let plan = engine
            .plan_refreshed(
                &stack,
                &vars,
                &refreshed,
                &PlanOptions::new(now),
                &omniform::NoHooks,
            )
            .expect("the plan");
        let stats = plan.refresh.clone().expect("statistics");
        let per_service: Vec<String> = stats
            .calls
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!(
            "refresh of {} resources: {} API calls in {} ms ({}); drift: {}; changes: {}",
            stats.resources,
            stats.total_calls(),
            stats.millis,
            per_service.join(", "),
            plan.drift.len(),
            plan.has_changes(),
        );
        println!("a refresh that reads each resource on its own: 1000 API calls");

        let destroy = PlanOptions {
            mode: omniform::PlanMode::Destroy,
            ..PlanOptions::new(now)
        };
        let plan = engine
            .plan(&stack, &vars, &prior, &destroy)
            .expect("the destroy plan");
        apply(plan, prior, "destroy").await;
    });
}
