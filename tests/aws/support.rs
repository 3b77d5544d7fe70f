//! A moto account per test, with an engine whose AWS provider points at it, and SDK clients
//! for changing things behind omniform's back and checking what is left.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use omniform::{Action, Engine, Plan, ProviderSet, Value};
use omniform_aws::{Aws, CallLog, Clients};
use omniform_tests::Lab;

/// The moto server the test script started.
pub fn endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").expect(
        "MOTO_ENDPOINT is not set: the AWS tests run against moto_server; run them with scripts/test or scripts/with-services",
    )
}

/// A fresh 12-digit account id, different for every test and every run.
fn account() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock")
        .subsec_nanos() as u64;
    let n = (std::process::id() as u64 * 1_000_003
        + nanos * 7
        + NEXT.fetch_add(1, Ordering::SeqCst) * 104_729)
        % 900_000_000_000;
    format!("{}", 100_000_000_000 + n)
}

#[allow(missing_debug_implementations)]
pub struct Moto {
    pub lab: Lab,
    pub aws: Arc<Aws>,
    pub account: String,
    /// Direct SDK access to the same account.
    pub sdk: Clients,
}

impl Moto {
    pub async fn new() -> Self {
        let endpoint = endpoint();
        let account = account();
        let aws = Arc::new(Aws::new());
        let engine = Engine::from_providers(
            ProviderSet::new()
                .with(Arc::new(omniform_builtin::Builtin::new()))
                .with(aws.clone()),
        );
        let prelude = format!(
            "[provider.aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_key = \"testing\"\nsecret_key = \"testing\"\nmax_attempts = 2\nrequest_headers = {{ \"x-moto-account-id\" = \"{account}\" }}\n"
        );
        let settings = Value::map([
            ("region", Value::from("us-east-1")),
            ("endpoint_url", Value::from(endpoint.as_str())),
            ("access_key", Value::from("testing")),
            ("secret_key", Value::from("testing")),
            ("max_attempts", Value::from(2)),
            (
                "request_headers",
                Value::map([("x-moto-account-id", account.as_str())]),
            ),
        ]);
        let sdk = Clients::connect(&settings, Arc::new(CallLog::default()))
            .await
            .expect("moto answers");
        Self {
            lab: Lab::with(engine, &prelude),
            aws,
            account,
            sdk,
        }
    }

    /// Another lab (own state) on the same account and engine: for importing.
    pub fn second_lab(&self) -> Lab {
        Lab::with(self.lab.engine.clone(), &self.lab.prelude)
    }

    /// The operations called so far, in order.
    pub fn operations(&self) -> Vec<String> {
        self.aws.call_log().into_iter().map(|(_, op)| op).collect()
    }
}

/// A stack of `body` under a stack table.
pub fn stack(body: &str) -> String {
    format!("[stack]\nname = \"lab\"\n\n{body}")
}

/// The action planned for `addr`.
pub fn action(plan: &Plan, addr: &str) -> Action {
    plan.changes
        .iter()
        .find(|c| c.address.to_string() == addr)
        .map(|c| c.action)
        .unwrap_or_else(|| {
            panic!(
                "no change for {addr} in {:?}",
                plan.changes
                    .iter()
                    .map(|c| c.address.to_string())
                    .collect::<Vec<_>>()
            )
        })
}

/// Applies and insists everything worked.
pub async fn apply_ok(lab: &Lab, text: &str) -> omniform::Applied {
    let applied = lab.apply(text).await;
    assert!(
        applied.report.is_success(),
        "apply failed: {:?} skipped {:?}",
        applied.report.failed,
        applied.report.skipped
    );
    applied
}

/// Plans and insists there is nothing to do.
pub async fn assert_no_changes(lab: &Lab, text: &str) {
    let plan = lab
        .plan(text)
        .await
        .unwrap_or_else(|d| panic!("{}", omniform_tests::render_diags(&d)));
    assert!(
        !plan.has_changes(),
        "expected no changes, got:\n{}",
        omniform::render::text::plan(&plan, omniform::render::Style::PLAIN)
    );
}
