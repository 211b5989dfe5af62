//! The runtime: vector table, reset handler and panic handler. `link.x` puts
//! the initial stack pointer in front of the vector table.

use core::arch::global_asm;

// Copy `.data` from flash, zero `.bss`, enter `firmware_main`. In assembly, as
// no Rust code may run before statics are initialised.
global_asm!(
    ".pushsection .text.reset,\"ax\",%progbits",
    ".global reset",
    ".type reset,%function",
    ".thumb_func",
    "reset:",
    "    ldr r0, =__sdata",
    "    ldr r1, =__edata",
    "    ldr r2, =__sidata",
    "1:  cmp r0, r1",
    "    bhs 2f",
    "    ldr r3, [r2], #4",
    "    str r3, [r0], #4",
    "    b 1b",
    "2:  ldr r0, =__sbss",
    "    ldr r1, =__ebss",
    "    movs r2, #0",
    "3:  cmp r0, r1",
    "    bhs 4f",
    "    str r2, [r0], #4",
    "    b 3b",
    "4:  bl firmware_main",
    ".ltorg",
    ".popsection",
);

extern "C" {
    fn reset() -> !;
}

type Handler = unsafe extern "C" fn() -> !;

/// Every exception but reset ends in the port's fault handler.
const FAULT: Option<Handler> = Some(crate::port::port_fault);

/// Reset, NMI, HardFault, MemManage, BusFault, UsageFault, SecureFault (v8-M),
/// three reserved, SVCall, DebugMonitor, reserved, PendSV, SysTick.
#[link_section = ".vectors"]
#[used]
static VECTORS: [Option<Handler>; 15] = [
    Some(reset),
    FAULT,
    FAULT,
    FAULT,
    FAULT,
    FAULT,
    FAULT,
    None,
    None,
    None,
    FAULT,
    FAULT,
    None,
    FAULT,
    FAULT,
];

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: the port's fault handler takes no arguments and never returns.
    unsafe { crate::port::port_fault() }
}
