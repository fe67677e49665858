//! What several test suites share.

/// The ways an actor can end, each through its natural route: stopping itself (`Normal`,
/// `Shutdown`), being killed, panicking, or returning an `Err` from a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Normal,
    Shutdown,
    Killed,
    Panic,
    Error,
}

/// Every [`End`].
pub(crate) const ENDS: [End; 5] = [
    End::Normal,
    End::Shutdown,
    End::Killed,
    End::Panic,
    End::Error,
];

/// Ends the actor running `ctx` the way `how` says, from inside one of its handlers: its
/// panic message is "`label` panicked", its error "`label` failed".
pub(crate) fn end_with<A: beam_runtime::Actor>(
    how: End,
    ctx: &mut beam_runtime::Ctx<A>,
    label: &str,
) -> Result<(), String> {
    match how {
        End::Normal => ctx.stop(),
        End::Shutdown => ctx.stop_with(beam_runtime::ExitReason::Shutdown),
        End::Killed => ctx.me().kill(),
        End::Panic => panic!("{label} panicked"),
        End::Error => return Err(format!("{label} failed")),
    }
    Ok(())
}
