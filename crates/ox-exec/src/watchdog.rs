//! The watchdog: a small process that outlives a supervisor killed with SIGKILL and ends
//! what is left of the command's process group.
//!
//! `PR_SET_PDEATHSIG` only reaches the command's direct child; a shell's background job or a
//! data-loader worker would run on orphaned. The supervisor therefore starts a watchdog (the
//! `ox` binary in a hidden mode) in a process group of its own, holding the read end of a
//! pipe whose write end only the supervisor has. When the supervisor exits, for any reason,
//! the pipe closes; the watchdog then stops the group (SIGTERM, SIGKILL after a grace period)
//! and exits. After a normal end the group is already empty and it exits at once.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::executor::ProcessGroup;

/// What the watchdog had to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchOutcome {
    /// The group was empty when the supervisor went away.
    NothingLeft,
    /// Survivors got SIGTERM and ended within the grace period.
    Terminated,
    /// Survivors were still there after the grace period and got SIGKILL.
    Killed,
}

/// Waits until `link` reaches end of file (the supervisor is gone), then ends `group`.
pub fn watch(mut link: impl Read, group: &dyn ProcessGroup, grace: Duration) -> WatchOutcome {
    // Any read error means the same as end of file: the other side is gone.
    let _ = std::io::copy(&mut link, &mut std::io::sink());
    if !group.alive() {
        return WatchOutcome::NothingLeft;
    }
    group.signal(libc::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !group.alive() {
            return WatchOutcome::Terminated;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    group.signal(libc::SIGKILL);
    WatchOutcome::Killed
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A group that dies after receiving `dies_on`.
    struct FakeGroup {
        dies_on: Option<i32>,
        received: Mutex<Vec<i32>>,
    }
    impl ProcessGroup for FakeGroup {
        fn id(&self) -> u32 {
            7
        }
        fn signal(&self, signal: i32) {
            self.received.lock().unwrap().push(signal);
        }
        fn alive(&self) -> bool {
            let got = self.received.lock().unwrap();
            !self.dies_on.is_some_and(|s| got.contains(&s))
        }
    }

    fn group(dies_on: Option<i32>) -> FakeGroup {
        FakeGroup {
            dies_on,
            received: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn empty_group_is_left_alone() {
        let g = group(Some(0));
        g.signal(0);
        g.received.lock().unwrap().clear();
        g.received.lock().unwrap().push(0);
        assert_eq!(
            watch(&b""[..], &g, Duration::from_secs(1)),
            WatchOutcome::NothingLeft
        );
        assert_eq!(*g.received.lock().unwrap(), vec![0]);
    }

    #[test]
    fn survivors_get_sigterm_then_sigkill() {
        let g = group(Some(libc::SIGTERM));
        assert_eq!(
            watch(&b"x"[..], &g, Duration::from_secs(5)),
            WatchOutcome::Terminated
        );
        let stubborn = group(None);
        assert_eq!(
            watch(&b""[..], &stubborn, Duration::from_millis(120)),
            WatchOutcome::Killed
        );
        assert_eq!(
            *stubborn.received.lock().unwrap(),
            vec![libc::SIGTERM, libc::SIGKILL]
        );
    }
}
