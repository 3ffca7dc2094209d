//! The process's file descriptor limit. Each connection is a descriptor; with the usual
//! soft limit of 1,024 the operating system, not `max_connections`, would decide when
//! accepting fails. At start the soft limit is raised to the hard one, and a hard limit
//! below what the connection cap needs is reported.

// `rlim_t` is `u64` on Linux but not on every Unix: the conversions are kept.
#![allow(clippy::useless_conversion)]

/// Descriptors kept for everything but client connections (listeners, logs, the
/// runtime's own, the handlers').
const SPARE: u64 = 256;

/// Raises the soft descriptor limit to the hard one; returns (before, after), or `None`
/// where there is no such limit or it cannot be read.
#[cfg(unix)]
pub(crate) fn raise() -> Option<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    let before = u64::from(limit.rlim_cur);
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `setrlimit` reads one `rlimit` through a valid pointer.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Some((before, u64::from(raised.rlim_cur)));
        }
    }
    Some((before, before))
}

#[cfg(not(unix))]
pub(crate) fn raise() -> Option<(u64, u64)> {
    None
}

/// Raises the limit and logs what it means for `max_connections`.
pub(crate) fn prepare(max_connections: usize) {
    let Some((before, after)) = raise() else {
        return;
    };
    if after > before {
        tracing::debug!(before, after, "raised the file descriptor limit");
    }
    let needed = max_connections as u64 + SPARE;
    if after < needed {
        tracing::warn!(
            limit = after,
            max_connections,
            "the file descriptor limit ({after}) is below what {max_connections} connections \
             need ({needed}): accepting will fail before the cap; raise it (`ulimit -n`, \
             LimitNOFILE= in a systemd unit) or lower max_connections"
        );
    }
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let (before, after) = super::raise().unwrap();
        assert!(after >= before);
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` writes one `rlimit` through a valid pointer.
        let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        assert_eq!(read, 0);
        assert_eq!(u64::from(limit.rlim_cur), after);
        if limit.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(limit.rlim_cur, limit.rlim_max, "raised to the hard limit");
        }
    }
}
