//! RESP2, the Redis protocol, as far as the store needs it: commands as arrays of bulk
//! strings, and the replies `+simple`, `-error`, `:integer` and `$bulk` (nil included),
//! read incrementally from a buffer and bounded.

/// The largest bulk reply read: the store's replies are a few bytes.
const MAX_BULK: usize = 64 * 1024;

/// One reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `+OK`.
    Simple(String),
    /// `-ERR ..`.
    Error(String),
    /// `:1`.
    Integer(i64),
    /// `$3\r\nabc`, or `None` for `$-1`.
    Bulk(Option<Vec<u8>>),
}

/// Appends the command `args` to `out`.
pub(crate) fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// The first reply in `buf` and the bytes it took; `Ok(None)` when it is not complete yet,
/// an error when the bytes are not RESP (the connection is then dropped).
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        return match buf.len() > MAX_BULK {
            true => Err("a reply line longer than 64 KiB".into()),
            false => Ok(None),
        };
    };
    let line = std::str::from_utf8(&buf[1..end]).map_err(|_| "a reply that is not UTF-8")?;
    let taken = end + 2;
    let reply = match buf.first() {
        Some(b'+') => Reply::Simple(line.to_owned()),
        Some(b'-') => Reply::Error(line.to_owned()),
        Some(b':') => Reply::Integer(line.parse().map_err(|_| format!("integer `{line}`"))?),
        Some(b'$') => {
            let len: i64 = line.parse().map_err(|_| format!("bulk length `{line}`"))?;
            if len < 0 {
                return Ok(Some((Reply::Bulk(None), taken)));
            }
            let len = len as usize;
            if len > MAX_BULK {
                return Err(format!("a bulk reply of {len} bytes"));
            }
            if buf.len() < taken + len + 2 {
                return Ok(None);
            }
            let data = buf[taken..taken + len].to_vec();
            return Ok(Some((Reply::Bulk(Some(data)), taken + len + 2)));
        }
        Some(other) => return Err(format!("an unexpected reply type `{}`", *other as char)),
        None => return Ok(None),
    };
    Ok(Some((reply, taken)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        command(&mut out, &[b"SET", b"k", b"1", b"NX", b"PX", b"64000"]);
        assert_eq!(
            out,
            b"*6\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n$2\r\nNX\r\n$2\r\nPX\r\n$5\r\n64000\r\n"
        );
    }

    #[test]
    fn replies_are_read_whole_or_not_at_all() {
        let ok = Some((Reply::Simple("OK".into()), 5));
        assert_eq!(parse(b"+OK\r\n"), Ok(ok));
        assert_eq!(parse(b"+OK\r"), Ok(None));
        assert_eq!(parse(b"$-1\r\n:1\r\n"), Ok(Some((Reply::Bulk(None), 5))));
        assert_eq!(parse(b":12\r\n"), Ok(Some((Reply::Integer(12), 5))));
        let err = Reply::Error("ERR wrong".into());
        assert_eq!(parse(b"-ERR wrong\r\n"), Ok(Some((err, 12))));
        let bulk = Reply::Bulk(Some(b"ab".to_vec()));
        assert_eq!(parse(b"$2\r\nab\r\n"), Ok(Some((bulk, 8))));
        assert_eq!(parse(b"$2\r\na"), Ok(None));
        assert!(parse(b"?\r\n").is_err());
        assert!(parse(b"$99999999\r\n").is_err());
        assert!(parse(&[b'+'; MAX_BULK + 1]).is_err());
    }
}
