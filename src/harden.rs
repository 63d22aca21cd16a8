//! Keeping secrets out of core dumps: a process that reads a passphrase or holds a decrypted
//! token turns core dumps off for itself before it does.

/// Sets the core-file size limit to zero and marks the process not dumpable (which also keeps
/// other processes of the same user from reading its memory through `/proc`). Best effort: a
/// system that refuses either still runs the command.
pub fn no_core_dumps() {
    use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
}
