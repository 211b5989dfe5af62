//! The device thread: one loop over one channel, the agent's deadlines, and
//! the application's reactions (activate, self test, reboot, power cut).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use ota_agent::{BootControl, BootState, Event, ImageVerdict, Instant, Platform, State};

use super::firmware::{Firmware, SelfTest};
use super::{
    BootInfo, DeviceAgent, DeviceConfig, DeviceError, DeviceEvent, DeviceStatus, RebootReason,
};
use crate::boot::BootError;
use crate::flash::SharedFlash;
use crate::http::{HttpReport, HttpWorker};
use crate::mqtt::{Connectivity, LinkEvent, MqttConfig, MqttDriver, MqttLink};
use crate::platform::HostPlatform;

/// What the device thread waits for.
pub(super) enum Input {
    /// An event of MQTT link number `link` (events of older links are stale).
    Link { link: u64, event: LinkEvent },
    /// A report from the HTTP worker.
    Http(HttpReport),
    /// A call from the [`Device`](super::Device) handle.
    Command(Command),
}

/// Calls from the handle.
pub(super) enum Command {
    CheckForUpdate,
    Stop,
}

/// How many power cuts in a row during one boot are tolerated before the
/// device is declared dead (each armed cut fires once, so this is generous).
const MAX_BOOT_POWER_CUTS: u32 = 8;

pub(super) struct Runner<O> {
    agent: Option<DeviceAgent>,
    thing: String,
    agent_config: ota_agent::Config,
    mqtt_config: MqttConfig,
    activation_delay: Duration,
    power_off_time: Duration,
    flash: SharedFlash,
    input: Sender<Input>,
    rx: Receiver<Input>,
    link: Option<MqttLink>,
    link_id: u64,
    driver: MqttDriver,
    http: HttpWorker,
    epoch: std::time::Instant,
    activate_at: Option<Instant>,
    activating: bool,
    firmware: Firmware,
    status: Arc<Mutex<DeviceStatus>>,
    observer: O,
    last_state: Option<State>,
    last_progress: Option<(u32, u32)>,
}

impl<O: FnMut(&DeviceEvent)> Runner<O> {
    pub(super) fn new(
        config: &DeviceConfig,
        mut agent: DeviceAgent,
        input: Sender<Input>,
        rx: Receiver<Input>,
        status: Arc<Mutex<DeviceStatus>>,
        observer: O,
    ) -> Result<Self, DeviceError> {
        let http = {
            let input = input.clone();
            HttpWorker::start(&config.thing_name, config.http_timeout, move |r| {
                input.send(Input::Http(r)).is_ok()
            })
            .map_err(DeviceError::Thread)?
        };
        let flash = agent.platform().flash().clone();
        let firmware = Firmware::running(agent.platform());
        let mut runner = Runner {
            agent: Some(agent),
            thing: config.thing_name.clone(),
            agent_config: config.agent,
            mqtt_config: config.mqtt.clone(),
            activation_delay: config.activation_delay,
            power_off_time: config.power_off_time,
            flash,
            input,
            rx,
            link: None,
            link_id: 0,
            driver: MqttDriver::new(),
            http,
            epoch: std::time::Instant::now(),
            activate_at: None,
            activating: false,
            firmware,
            status,
            observer,
            last_state: None,
            last_progress: None,
        };
        runner.connect().map_err(DeviceError::Mqtt)?;
        Ok(runner)
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    fn emit(&mut self, event: DeviceEvent) {
        (self.observer)(&event);
    }

    /// Start a new MQTT link; its events carry its number.
    fn connect(&mut self) -> Result<(), crate::mqtt::MqttError> {
        self.link_id += 1;
        let (input, link) = (self.input.clone(), self.link_id);
        self.link = Some(MqttLink::start(&self.mqtt_config, move |event| {
            input.send(Input::Link { link, event }).is_ok()
        })?);
        Ok(())
    }

    /// The device thread.
    pub(super) fn run(mut self) {
        self.emit(DeviceEvent::Booted(self.boot_info()));
        while let Some(agent) = &self.agent {
            let deadline = match (agent.poll_timeout(), self.activate_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let input = match deadline {
                Some(d) => {
                    let wait = d.millis_since(self.now());
                    self.rx.recv_timeout(Duration::from_millis(wait))
                }
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match input {
                Ok(Input::Command(Command::Stop)) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(input) => self.handle(input),
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.tick();
            if !self.settle() {
                break;
            }
        }
        self.shut_down();
    }

    fn handle(&mut self, input: Input) {
        let now = self.now();
        let Some(agent) = &mut self.agent else { return };
        match input {
            Input::Link { link, event } if link == self.link_id => {
                let change = self.driver.handle(agent, now, event);
                self.on_connectivity(change);
            }
            Input::Link { .. } => {}
            Input::Http(report) => self.http.deliver(agent, now, &report),
            Input::Command(Command::CheckForUpdate) => {
                if let Err(e) = agent.check_for_update(now) {
                    log::info!("device: check for update refused: {e:?}");
                }
            }
            Input::Command(Command::Stop) => {}
        }
    }

    fn on_connectivity(&mut self, change: Connectivity) {
        match change {
            Connectivity::Connected => self.emit(DeviceEvent::Connected),
            Connectivity::Disconnected(reason) => {
                self.http.cancel();
                self.emit(DeviceEvent::Disconnected(reason));
            }
            Connectivity::Unreachable(reason) => self.emit(DeviceEvent::Unreachable(reason)),
            Connectivity::Unchanged => {}
        }
    }

    /// Act on the deadlines that passed.
    fn tick(&mut self) {
        let now = self.now();
        let Some(agent) = &mut self.agent else { return };
        if agent.poll_timeout().is_some_and(|d| d <= now) {
            agent.handle_timeout(now);
        }
        if self.activate_at.is_some_and(|d| d <= now) {
            self.activate_at = None;
            self.activating = true;
            if let Err(e) = agent.activate_new_image(now) {
                self.activating = false;
                log::warn!("device: activation failed: {e:?}");
            }
        }
    }

    /// After an input: honour a power cut, perform the agent's transmits,
    /// handle its events (which may act on it again), reboot if it asked,
    /// and publish the status. False when the device cannot go on.
    fn settle(&mut self) -> bool {
        loop {
            if !self.flash.lock().is_powered() {
                if !self.power_cut() {
                    return false;
                }
                continue;
            }
            self.transmit();
            let handled = self.events();
            if self.reboot_requested() {
                if !self.reboot() {
                    return false;
                }
                continue;
            }
            if !handled {
                break;
            }
        }
        self.publish_status();
        true
    }

    fn transmit(&mut self) {
        let Some(agent) = &mut self.agent else { return };
        while agent
            .poll_transmit(|t| {
                if !self.driver.transmit(&t) {
                    if let ota_agent::Transmit::HttpGet { url, first, last } = t {
                        self.http.get(url, first, last);
                    }
                }
            })
            .is_some()
        {}
    }

    /// Handle the agent's events; whether there were any.
    fn events(&mut self) -> bool {
        let mut any = false;
        while let Some(event) = self.agent.as_mut().and_then(|a| a.poll_event()) {
            any = true;
            let (job_id, statistics) = match &self.agent {
                Some(a) => (a.job_id().map(str::to_owned), a.statistics()),
                None => return any,
            };
            self.emit(DeviceEvent::Agent {
                event,
                job_id,
                statistics,
            });
            match event {
                Event::Activate => {
                    self.activate_at = Some(self.now().plus_millis(
                        u32::try_from(self.activation_delay.as_millis()).unwrap_or(u32::MAX),
                    ));
                    self.emit(DeviceEvent::Activating(self.activation_delay));
                }
                Event::StartTest => self.self_test(),
                _ => {}
            }
        }
        any
    }

    /// The firmware's self test, as its manifest says.
    fn self_test(&mut self) {
        let outcome = self.firmware.self_test;
        self.emit(DeviceEvent::SelfTest(outcome));
        let verdict = match outcome {
            SelfTest::Pass => ImageVerdict::Accepted,
            SelfTest::Fail => ImageVerdict::Rejected,
            SelfTest::Hang => return,
        };
        let now = self.now();
        if let Some(agent) = &mut self.agent {
            if let Err(e) = agent.set_image_state(now, verdict) {
                log::warn!("device: set_image_state({verdict:?}) refused: {e:?}");
            }
        }
    }

    fn reboot_requested(&mut self) -> bool {
        self.agent
            .as_mut()
            .is_some_and(|a| a.platform().reboot_requested())
    }

    /// Everything RAM held is gone: the connection, the HTTP request, the
    /// agent, the application's plans.
    fn power_down(&mut self) -> Option<HostPlatform> {
        if let Some(link) = self.link.take() {
            link.shutdown();
        }
        self.driver = MqttDriver::new();
        self.http.cancel();
        self.activate_at = None;
        self.last_state = None;
        self.last_progress = None;
        self.agent.take().map(DeviceAgent::into_platform)
    }

    /// The application or the agent asked for a reset.
    fn reboot(&mut self) -> bool {
        let reason = if std::mem::take(&mut self.activating) {
            RebootReason::Activation
        } else {
            RebootReason::RollBack
        };
        let statistics = self
            .agent
            .as_ref()
            .map(DeviceAgent::statistics)
            .unwrap_or_default();
        self.emit(DeviceEvent::Rebooting { reason, statistics });
        match self.power_down() {
            Some(platform) => self.boot(platform),
            None => false,
        }
    }

    /// The flash lost power: whatever the agent did after that never
    /// happened. Stay off a while, then power up and boot.
    fn power_cut(&mut self) -> bool {
        self.emit(DeviceEvent::PowerCut);
        self.update_status(|s| s.power_cuts += 1);
        self.activating = false;
        let Some(platform) = self.power_down() else {
            return false;
        };
        thread::sleep(self.power_off_time);
        self.flash.lock().power_cycle();
        self.boot(platform)
    }

    /// Run the bootloader, build a new agent on what it booted, reconnect.
    fn boot(&mut self, mut platform: HostPlatform) -> bool {
        let mut cuts = 0;
        let report = loop {
            match platform.restart() {
                Ok(report) => break *report,
                Err(BootError::Flash(e)) if e.is_power_loss() && cuts < MAX_BOOT_POWER_CUTS => {
                    cuts += 1;
                    self.emit(DeviceEvent::PowerCut);
                    self.update_status(|s| s.power_cuts += 1);
                    thread::sleep(self.power_off_time);
                    self.flash.lock().power_cycle();
                }
                Err(e) => return self.halt(format!("the device does not boot: {e}")),
            }
        };
        self.firmware = Firmware::running(&mut platform);
        let info = BootInfo::new(&report, self.firmware);
        match ota_agent::Agent::new(self.agent_config, &self.thing, platform) {
            Ok(mut agent) => {
                // Started at boot, connected or not, so the self-test window
                // runs even if the new firmware never reaches the broker;
                // suspended until the connection is up.
                let now = self.now();
                if let Err(e) = agent.start(now).and_then(|()| agent.suspend()) {
                    log::warn!("device {}: the agent did not start: {e:?}", self.thing);
                }
                self.agent = Some(agent);
            }
            Err(e) => return self.halt(format!("the agent does not start: {e:?}")),
        }
        self.update_status(|s| {
            s.boot = info;
            s.confirmed = info.confirmed;
            s.boots += 1;
            s.connected = false;
        });
        self.emit(DeviceEvent::Booted(info));
        match self.connect() {
            Ok(()) => true,
            Err(e) => self.halt(format!("cannot connect: {e}")),
        }
    }

    fn halt(&mut self, why: String) -> bool {
        log::error!("device {}: {why}", self.thing);
        self.update_status(|s| s.halted = Some(why.clone()));
        self.emit(DeviceEvent::Halted(why));
        false
    }

    fn boot_info(&self) -> BootInfo {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .boot
    }

    fn update_status(&self, change: impl FnOnce(&mut DeviceStatus)) {
        change(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Report state and progress changes, and refresh the snapshot.
    fn publish_status(&mut self) {
        let Some(agent) = &mut self.agent else { return };
        let confirmed = agent.platform().boot().state() == BootState::Confirmed;
        let state = agent.state();
        let progress = agent.progress();
        let (connected, image_state, statistics) = (
            self.driver.is_connected(),
            agent.image_state(),
            agent.statistics(),
        );
        let job_id = agent.job_id().map(str::to_owned);
        let was_confirmed = self
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .confirmed;
        if confirmed && !was_confirmed {
            let version = self.boot_info().version;
            self.emit(DeviceEvent::Confirmed(version));
        }
        if self.last_state != Some(state) {
            self.last_state = Some(state);
            self.emit(DeviceEvent::State(state));
        }
        if progress.is_some() && self.last_progress != progress {
            if let Some((received, total)) = progress {
                self.emit(DeviceEvent::Progress { received, total });
            }
        }
        self.last_progress = progress;
        self.update_status(|s| {
            s.connected = connected;
            s.confirmed = confirmed;
            s.state = state;
            s.image_state = image_state;
            s.job_id = job_id;
            s.progress = progress;
            s.statistics = statistics;
        });
    }

    fn shut_down(&mut self) {
        if let Some(agent) = &mut self.agent {
            agent.shutdown(false);
        }
        if let Some(link) = self.link.take() {
            link.shutdown();
        }
        self.emit(DeviceEvent::Stopped);
    }
}
