//! Plan and apply benchmark: generates a layered stack of N `omniform_data` resources
//! (networks → subnets → servers → volumes / DNS records / load-balancer attachments,
//! buckets → objects, with `triggers_replace` on some) and prints:
//!
//! - parse, validate and plan times and the peak heap against empty state
//!   (N = 1,000 and 10,000);
//! - apply with the local store (journal and snapshot included) and then a no-op plan
//!   against that state (read state, refresh, plan), with peak heap (N = 1,000, 5,000 and
//!   10,000).
//!
//! Run: `cargo bench -p omniform-tests --bench plan [-- plan 1000 10000] [-- apply 5000]`

#![allow(clippy::print_stdout, unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use omniform::{Engine, PlanOptions, Snapshot, SourceFile, VariableInputs};

/// Counts live heap bytes and their peak, so each phase's peak can be read. Allocation
/// itself is mimalloc's, as in the `omniform` binary.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to mimalloc unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The layered stack, as TOML text.
fn generate(n: usize) -> String {
    let networks = (n / 100).max(1);
    let subnets = (n / 20).max(1);
    let servers = n / 4;
    let volumes = n / 4;
    let dns = n / 10;
    let lb = n / 10;
    let buckets = (n / 50).max(1);
    let used = networks + subnets + servers + volumes + dns + lb + buckets;
    let objects = n.saturating_sub(used);
    let mut s = String::with_capacity(n * 200);
    s.push_str(
        "[stack]\nname = \"bench\"\n\n[variable.release]\ntype = \"string\"\ndefault = \"r1\"\n\n",
    );
    for i in 0..networks {
        s.push_str(&format!("[resource.omniform_data.net{i}]\ninput = {{ cidr = \"10.{}.0.0/16\", name = \"net-{i}\" }}\n\n", i % 256));
    }
    for i in 0..subnets {
        s.push_str(&format!(
            "[resource.omniform_data.subnet{i}]\ninput = {{ network = \"${{omniform_data.net{}.id}}\", cidr = \"10.{}.{}.0/24\" }}\n\n",
            i % networks,
            i % 256,
            i % 256
        ));
    }
    for i in 0..servers {
        s.push_str(&format!(
            "[resource.omniform_data.server{i}]\ninput = {{ subnet = \"${{omniform_data.subnet{}.id}}\", name = \"srv-{i}\", size = \"t3.large\" }}\n",
            i % subnets
        ));
        if i % 5 == 0 {
            s.push_str("triggers_replace = [\"${var.release}\"]\n");
        }
        s.push('\n');
    }
    for (kind, count) in [("volume", volumes), ("dns", dns), ("lb_attachment", lb)] {
        for i in 0..count {
            s.push_str(&format!(
                "[resource.omniform_data.{kind}{i}]\ninput = {{ server = \"${{omniform_data.server{}.id}}\", name = \"{kind}-{i}\" }}\n\n",
                i % servers.max(1)
            ));
        }
    }
    for i in 0..buckets {
        s.push_str(&format!(
            "[resource.omniform_data.bucket{i}]\ninput = {{ name = \"bucket-{i}\" }}\n\n"
        ));
    }
    for i in 0..objects {
        s.push_str(&format!(
            "[resource.omniform_data.object{i}]\ninput = {{ bucket = \"${{omniform_data.bucket{}.output.name}}\", key = \"obj/{i}.json\" }}\ntriggers_replace = [\"${{omniform_data.bucket{}.id}}\"]\n\n",
            i % buckets,
            i % buckets
        ));
    }
    s
}

fn run(n: usize) {
    let text = generate(n);
    let engine = Engine::new();
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);

    let t = Instant::now();
    let stack = omniform::parse_stack(SourceFile::new("bench.toml", text.clone()))
        .expect("the generated stack parses");
    let parse = t.elapsed();

    let t = Instant::now();
    let diags = engine.validate(&stack);
    assert!(!diags.has_errors(), "{diags}");
    let validate = t.elapsed();

    let vars = omniform::resolve_variables(&stack, &VariableInputs::default()).expect("variables");
    let opts = PlanOptions::new(omniform::OffsetDateTime::now_utc());
    let t = Instant::now();
    let plan = engine
        .plan(&stack, &vars, &Snapshot::empty("bench"), &opts)
        .expect("the plan");
    let plan_time = t.elapsed();
    assert_eq!(plan.summary().add, n);
    let peak = PEAK.load(Ordering::Relaxed) - base;

    let t = Instant::now();
    let text_out = omniform::render::text::plan(&plan, omniform::render::Style::PLAIN);
    let render = t.elapsed();

    println!(
        "plan N={n:>6}: parse {:>7.1} ms | validate+graph {:>7.1} ms | plan (incl. validate+graph) {:>7.1} ms | parse+plan {:>7.1} ms | peak heap {:>6.1} MiB | stack {:.1} MiB text | render text {:>6.1} ms ({:.1} MiB)",
        parse.as_secs_f64() * 1e3,
        validate.as_secs_f64() * 1e3,
        plan_time.as_secs_f64() * 1e3,
        (parse + plan_time).as_secs_f64() * 1e3,
        mib(peak),
        mib(text.len()),
        render.as_secs_f64() * 1e3,
        mib(text_out.len()),
    );
}

fn run_apply(n: usize) {
    use omniform::state::StateStore;
    let text = generate(n);
    let engine = Engine::new();
    let stack = omniform::parse_stack(SourceFile::new("bench.toml", text))
        .expect("the generated stack parses");
    let vars = omniform::resolve_variables(&stack, &VariableInputs::default()).expect("variables");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        omniform::state::LocalStore::open(dir.path().join("state"), "bench", Some("42".repeat(32)))
            .expect("store");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let empty = Snapshot::empty("bench");
    let opts = PlanOptions::new(omniform::OffsetDateTime::now_utc());
    let plan = engine.plan(&stack, &vars, &empty, &opts).expect("the plan");

    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let applied = runtime.block_on(engine.apply_recorded(
        &store,
        omniform::Desired::Stack {
            stack: &stack,
            vars: &vars,
        },
        &plan,
        &empty,
        &empty,
        "apply",
        &omniform::NoHooks,
        &omniform::ApplyOptions::new(omniform::OffsetDateTime::now_utc()),
    ));
    let apply_time = t.elapsed();
    let applied = applied.expect("state is written");
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert_eq!(applied.report.counts.added, n);
    let apply_peak = PEAK.load(Ordering::Relaxed) - base;
    drop(applied);

    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let prior = store
        .read_latest()
        .expect("state reads")
        .expect("state exists");
    let read = t.elapsed();
    let t = Instant::now();
    let refreshed = runtime
        .block_on(engine.refresh(&prior, &omniform::NoHooks))
        .expect("refresh");
    let refresh = t.elapsed();
    let t = Instant::now();
    let noop = engine
        .plan_refreshed(&stack, &vars, &refreshed, &opts, &omniform::NoHooks)
        .expect("the no-op plan");
    let plan_time = t.elapsed();
    assert!(!noop.has_changes());
    let noop_peak = PEAK.load(Ordering::Relaxed) - base;
    let snapshot_bytes: u64 = std::fs::read_dir(dir.path().join("state/snapshots"))
        .expect("snapshots")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "apply N={n:>6}: apply {:>7.1} ms (journal + snapshot; peak heap {:>6.1} MiB; snapshot {:.1} MiB) | no-op plan: read state {:>6.1} ms + refresh {:>6.1} ms + plan {:>6.1} ms = {:>7.1} ms (peak heap {:>6.1} MiB)",
        apply_time.as_secs_f64() * 1e3,
        mib(apply_peak),
        mib(snapshot_bytes as usize),
        read.as_secs_f64() * 1e3,
        refresh.as_secs_f64() * 1e3,
        plan_time.as_secs_f64() * 1e3,
        (read + refresh + plan_time).as_secs_f64() * 1e3,
        mib(noop_peak),
    );
}

fn main() {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mode = match args.first().map(String::as_str) {
        Some("plan") | Some("apply") => Some(args.remove(0)),
        _ => None,
    };
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if mode.as_deref() != Some("apply") {
        for &n in if sizes.is_empty() {
            &[1_000, 10_000][..]
        } else {
            &sizes
        } {
            run(n);
        }
    }
    if mode.as_deref() != Some("plan") {
        for &n in if sizes.is_empty() {
            &[1_000, 5_000, 10_000][..]
        } else {
            &sizes
        } {
            run_apply(n);
        }
    }
}
