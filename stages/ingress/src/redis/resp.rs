//! A minimal RESP2 codec for the Redis source: commands out as arrays of bulk strings, replies
//! parsed incrementally from a byte buffer (a reply split across reads is simply not complete
//! yet).

/// A parsed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Simple(String),
    /// `-ERR …`
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n …` (`None` = the null bulk string)
    Bulk(Option<Vec<u8>>),
    /// `*n …` (`None` = the null array)
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The bytes of a bulk or simple string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(Some(b)) => Some(b),
            Reply::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The items of an array (a null array is empty).
    pub fn items(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(v)) => Some(v),
            Reply::Array(None) => Some(&[]),
            _ => None,
        }
    }
}

/// A reply the codec cannot read: the connection is out of step and must be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// Deepest nesting accepted (Redis stream replies nest four levels).
const MAX_DEPTH: usize = 8;
/// Largest bulk string or array accepted.
const MAX_LEN: i64 = 512 << 20;

/// Appends `args` as one command.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    push_int(out, args.len() as i64);
    for a in args {
        out.push(b'$');
        push_int(out, a.len() as i64);
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    use std::io::Write;
    let _ = write!(out, "{v}\r\n");
}

/// Parses one reply from the front of `buf`: `Ok(Some((reply, bytes used)))`, `Ok(None)` when
/// it is not complete yet.
pub fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    parse_at(buf, 0, 0)
}

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?.windows(2).position(|w| w == b"\r\n").map(|p| from + p)
}

fn parse_int(bytes: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| ProtocolError(format!("bad integer {:?}", String::from_utf8_lossy(bytes))))
}

fn parse_at(buf: &[u8], at: usize, depth: usize) -> Result<Option<(Reply, usize)>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError("reply nested too deeply".into()));
    }
    let Some(&kind) = buf.get(at) else { return Ok(None) };
    let Some(end) = line_end(buf, at + 1) else { return Ok(None) };
    let line = &buf[at + 1..end];
    let next = end + 2;
    let text = || String::from_utf8_lossy(line).into_owned();
    match kind {
        b'+' => Ok(Some((Reply::Simple(text()), next))),
        b'-' => Ok(Some((Reply::Error(text()), next))),
        b':' => Ok(Some((Reply::Int(parse_int(line)?), next))),
        b'$' => {
            let n = parse_int(line)?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            if n > MAX_LEN {
                return Err(ProtocolError(format!("bulk string of {n} bytes")));
            }
            let n = n as usize;
            if buf.len() < next + n + 2 {
                return Ok(None);
            }
            if &buf[next + n..next + n + 2] != b"\r\n" {
                return Err(ProtocolError("bulk string not followed by CRLF".into()));
            }
            Ok(Some((Reply::Bulk(Some(buf[next..next + n].to_vec())), next + n + 2)))
        }
        b'*' => {
            let n = parse_int(line)?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            if n > MAX_LEN {
                return Err(ProtocolError(format!("array of {n} items")));
            }
            let mut items = Vec::with_capacity((n as usize).min(1024));
            let mut pos = next;
            for _ in 0..n {
                match parse_at(buf, pos, depth + 1)? {
                    Some((r, p)) => {
                        items.push(r);
                        pos = p;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(Some(items)), pos)))
        }
        other => Err(ProtocolError(format!("unexpected reply type byte 0x{other:02x}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        encode(&mut out, &[b"XACK", b"s", b"g", b"1-0"]);
        assert_eq!(out, b"*4\r\n$4\r\nXACK\r\n$1\r\ns\r\n$1\r\ng\r\n$3\r\n1-0\r\n");
    }

    #[test]
    fn parses_every_type_and_waits_for_partial_input() {
        let full = b"*3\r\n+OK\r\n$5\r\nhello\r\n*2\r\n:42\r\n$-1\r\n-ERR no\r\n";
        let (r, used) = parse(full).unwrap().unwrap();
        assert_eq!(
            r,
            Reply::Array(Some(vec![
                Reply::Simple("OK".into()),
                Reply::Bulk(Some(b"hello".to_vec())),
                Reply::Array(Some(vec![Reply::Int(42), Reply::Bulk(None)])),
            ]))
        );
        let (e, _) = parse(&full[used..]).unwrap().unwrap();
        assert_eq!(e, Reply::Error("ERR no".into()));
        // Every strict prefix of the first reply is incomplete, never an error.
        for cut in 0..used {
            assert_eq!(parse(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(parse(b"*-1\r\n").unwrap(), Some((Reply::Array(None), 5)));
    }

    #[test]
    fn refuses_garbage() {
        assert!(parse(b"?what\r\n").is_err());
        assert!(parse(b":12x\r\n").is_err());
        assert!(parse(b"$3\r\nabcd\r\n").is_err());
        let deep = "*1\r\n".repeat(20) + ":1\r\n";
        assert!(parse(deep.as_bytes()).is_err());
    }
}
