//! How the demo talks: numbered steps, indented details, the device's own
//! lines, the service's view of the job, and a download progress bar (with
//! milestone lines instead when the output is not a terminal).

use std::collections::BTreeMap;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ota_agent_host::DeviceEvent;
use otactl::service::Execution;

use crate::cmd::device::Narrator;

/// The demo's voice.
pub struct Story {
    step: u32,
    narrator: Narrator,
    bar: Option<ProgressBar>,
    milestone: u32,
    job: Option<(String, BTreeMap<String, String>)>,
}

impl Story {
    pub fn new() -> Self {
        Story {
            step: 0,
            narrator: Narrator::default(),
            bar: None,
            milestone: 0,
            job: None,
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(text),
            _ => println!("{text}"),
        }
    }

    /// A new step.
    pub fn step(&mut self, text: &str) {
        self.step += 1;
        self.line(&format!("\n{:>2}. {text}", self.step));
    }

    /// A detail of the current step.
    pub fn detail(&self, text: &str) {
        self.line(&format!("    {text}"));
    }

    /// Something the device did.
    pub fn device(&mut self, event: &DeviceEvent) {
        if let DeviceEvent::Progress { received, total } = event {
            self.progress(*received, *total);
            return;
        }
        let transfer_over = match event {
            DeviceEvent::Booted(_) | DeviceEvent::PowerCut => true,
            DeviceEvent::Agent { event, .. } => *event != ota_agent::Event::ReceivedJob,
            _ => false,
        };
        if transfer_over {
            self.finish_bar();
        }
        if let Some(text) = self.narrator.describe(event) {
            if !text.starts_with("download:") {
                self.line(&format!("    [device] {text}"));
            }
        }
    }

    /// The job as the service sees it, when it changed.
    pub fn service(&mut self, execution: &Execution) {
        let now = (
            execution.status.as_str().to_owned(),
            execution.status_details.clone(),
        );
        if self.job.as_ref() == Some(&now) {
            return;
        }
        let details: String = now.1.iter().map(|(k, v)| format!(" {k}={v:?}")).collect();
        self.line(&format!(
            "    [service] job {} is {}{details}",
            execution.job_id, now.0
        ));
        self.job = Some(now);
    }

    fn progress(&mut self, received: u32, total: u32) {
        let bar = self.bar.get_or_insert_with(|| {
            let bar =
                ProgressBar::with_draw_target(Some(u64::from(total)), ProgressDrawTarget::stdout());
            if let Ok(style) =
                ProgressStyle::with_template("    [device] download {bar:40} {pos}/{len} blocks")
            {
                bar.set_style(style);
            }
            bar
        });
        bar.set_length(u64::from(total));
        bar.set_position(u64::from(received));
        if bar.is_hidden() {
            // No terminal: say it in lines at every quarter.
            let quarter = received * 4 / total.max(1);
            if quarter > self.milestone || received == 0 {
                self.milestone = quarter;
                println!("    [device] download {received}/{total} blocks");
            }
        }
        if received >= total {
            self.finish_bar();
        }
    }

    fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
        self.milestone = 0;
    }
}
