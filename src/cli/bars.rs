//! Progress bars on the terminal for the long admin commands (backup, restore, check, gc, reindex).

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};

use crate::admin::{Progress, Silent, Unit};

/// Bars when a person watches stderr; nothing when the output is JSON for a script or stderr is
/// not a terminal, where bars would only be noise.
pub fn for_output(json: bool) -> Arc<dyn Progress> {
    if !json && std::io::stderr().is_terminal() {
        Arc::new(Bars::default())
    } else {
        Arc::new(Silent)
    }
}

/// Progress bars on the terminal: one per phase, with rate and ETA.
#[derive(Default)]
struct Bars(Mutex<Option<ProgressBar>>);

impl Progress for Bars {
    fn phase(&self, name: &str, total: u64, unit: Unit) {
        let Ok(mut bar) = self.0.lock() else { return };
        if let Some(old) = bar.take() {
            old.finish_and_clear();
        }
        if name.is_empty() {
            return;
        }
        let pb = if total == 0 {
            let pb = ProgressBar::new_spinner();
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        } else {
            let counts = match unit {
                Unit::Bytes => "{bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})",
                Unit::Items => "{human_pos}/{human_len} ({per_sec}, ETA {eta})",
            };
            let style = ProgressStyle::with_template(&format!("{{msg}} [{{bar:30}}] {counts}"))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(total).with_style(style.progress_chars("=> "))
        };
        pb.set_message(name.to_owned());
        *bar = Some(pb);
    }

    fn at(&self, done: u64) {
        if let Ok(bar) = self.0.lock()
            && let Some(pb) = bar.as_ref()
        {
            pb.set_position(done);
        }
    }
}
