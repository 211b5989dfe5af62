//! A minimal firmware for measuring the footprint of `ota-agent`.
//!
//! Without features it is the baseline: a runtime ([`rt`]) and a port
//! ([`port`]) whose every function is called once. With `agent` it also keeps
//! an agent in a static and drives its whole API ([`app`]), so the difference
//! between the two ELF files is the agent.
#![no_std]
#![no_main]

#[cfg(feature = "agent")]
mod app;
mod port;
mod rt;

/// Called by the reset handler once `.data` and `.bss` are initialised.
#[no_mangle]
extern "C" fn firmware_main() -> ! {
    port::touch();
    #[cfg(feature = "agent")]
    app::run();
    #[cfg(not(feature = "agent"))]
    port::halt();
}
