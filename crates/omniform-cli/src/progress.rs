//! Progress of an apply: on a terminal, a live bar with what is running; elsewhere (CI), one
//! line per finished operation with its duration.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use omniform::render::Style;
use omniform::{Action, Event, Hooks, InstanceAddress};

fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::DeleteThenCreate | Action::CreateThenDelete => {
            ("Replacing...", "Replacement complete")
        }
        Action::Read => ("Reading...", "Read complete"),
        Action::NoOp => ("", ""),
    }
}

fn secs(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.2}s", d.as_secs_f64())
    } else {
        format!("{}s", d.as_secs())
    }
}

/// Renders engine events.
pub struct Progress {
    style: Style,
    bar: Option<ProgressBar>,
    running: Mutex<BTreeMap<InstanceAddress, (Action, Instant)>>,
}

impl Progress {
    /// `total` is how many operations the apply will run.
    pub fn new(style: Style, tty: bool, total: usize) -> Self {
        let bar = tty.then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stdout_with_hz(10),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            style,
            bar,
            running: Mutex::new(BTreeMap::new()),
        }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    fn refresh_message(&self) {
        if let Some(bar) = &self.bar {
            let running = self.running.lock().expect("running");
            let mut names: Vec<String> = running
                .iter()
                .take(3)
                .map(|(a, (action, t))| {
                    format!(
                        "{a} ({} {}s)",
                        verbs(*action).0.trim_end_matches("..."),
                        t.elapsed().as_secs()
                    )
                })
                .collect();
            if running.len() > 3 {
                names.push(format!("+{} more", running.len() - 3));
            }
            bar.set_message(names.join(", "));
        }
    }

    /// Removes the live bar before the final summary.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Hooks for Progress {
    fn event(&self, event: &Event) {
        match event {
            Event::ApplyStart { address, action } => {
                self.running
                    .lock()
                    .expect("running")
                    .insert(address.clone(), (*action, Instant::now()));
                self.refresh_message();
            }
            Event::ApplyComplete {
                address,
                action,
                elapsed,
            } => {
                self.running.lock().expect("running").remove(address);
                self.line(format!(
                    "{}: {} after {}",
                    self.style.bold(&address.to_string()),
                    verbs(*action).1,
                    secs(*elapsed)
                ));
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                self.refresh_message();
            }
            Event::ApplyErrored {
                address,
                action,
                message,
            } => {
                self.running.lock().expect("running").remove(address);
                let verb = verbs(*action).0.trim_end_matches("...").to_lowercase();
                let text = format!("{}: {verb} failed: {message}", address);
                match &self.bar {
                    Some(bar) => bar.println(self.style.red(&text)),
                    None => eprintln!("{text}"),
                }
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::Skipped { .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::ApplyProgress {
                address,
                action,
                elapsed,
            } => {
                if self.bar.is_none() {
                    println!(
                        "{address}: Still {} [{}s elapsed]",
                        verbs(*action).0.to_lowercase(),
                        elapsed.as_secs()
                    );
                }
            }
            Event::RefreshStart { .. }
            | Event::RefreshComplete { .. }
            | Event::PlannedChange { .. }
            | Event::Drift { .. } => {}
            Event::Notice { message } => self.line(message.clone()),
        }
    }
}
