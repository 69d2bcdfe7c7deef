//! Splits a byte stream into lines in one preallocated buffer.
//!
//! A line is the bytes before a `\n` (a trailing `\r` is dropped); its length, counted before
//! the `\n`, may not exceed `max_line_bytes`. A longer line is reported once as
//! [`Line::Oversized`] as soon as the buffer fills, and the rest of it is skipped up to the next
//! newline. A final line without a newline counts as a line at end of stream.

use crate::bytes::{ByteSource, ReadOutcome};
use std::ops::Range;

/// What the buffered bytes hold next. Ranges index [`LineSplitter::bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A whole line (1-based number).
    Complete(Range<usize>, u64),
    /// The start of a line longer than the limit; the rest will be skipped.
    Oversized(Range<usize>, u64),
    /// No whole line buffered: read more.
    NeedMore,
    /// End of stream and nothing left.
    Eof,
}

/// A line splitter over a fixed buffer of `max_line_bytes + 1` bytes.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    max_line: usize,
    line_no: u64,
    discarding: bool,
    eof: bool,
}

impl LineSplitter {
    /// A splitter for lines of at most `max_line_bytes` bytes (allocates the buffer once).
    pub fn new(max_line_bytes: usize) -> LineSplitter {
        LineSplitter {
            buf: vec![0u8; max_line_bytes + 1].into_boxed_slice(),
            start: 0,
            end: 0,
            max_line: max_line_bytes,
            line_no: 0,
            discarding: false,
            eof: false,
        }
    }

    /// The buffered bytes a [`Line`] range refers to.
    #[inline]
    pub fn bytes(&self, r: Range<usize>) -> &[u8] {
        &self.buf[r]
    }

    /// The longest accepted line.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Lines seen so far (including oversized ones).
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// The next line from what is buffered.
    pub fn next_line(&mut self) -> Line {
        if self.discarding && !self.skip_rest_of_line() {
            return if self.eof { Line::Eof } else { Line::NeedMore };
        }
        let pending = &self.buf[self.start..self.end];
        if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let from = self.start;
            let mut to = from + pos;
            self.start = to + 1;
            if to > from && self.buf[to - 1] == b'\r' {
                to -= 1;
            }
            self.line_no += 1;
            return Line::Complete(from..to, self.line_no);
        }
        if pending.len() > self.max_line {
            self.line_no += 1;
            self.discarding = true;
            let r = self.start..self.end;
            self.start = self.end;
            return Line::Oversized(r, self.line_no);
        }
        if !self.eof {
            return Line::NeedMore;
        }
        if pending.is_empty() {
            return Line::Eof;
        }
        let r = self.start..self.end;
        self.start = self.end;
        self.line_no += 1;
        Line::Complete(r, self.line_no)
    }

    /// Skips to just past the next newline; false when none is buffered (all dropped).
    fn skip_rest_of_line(&mut self) -> bool {
        match self.buf[self.start..self.end].iter().position(|&b| b == b'\n') {
            Some(pos) => {
                self.start += pos + 1;
                self.discarding = false;
                true
            }
            None => {
                self.start = self.end;
                false
            }
        }
    }

    /// Reads more bytes from `src` into the free tail of the buffer (compacting first).
    pub fn fill(&mut self, src: &mut dyn ByteSource) -> ReadOutcome {
        if self.eof {
            return ReadOutcome::Eof;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let out = src.read_into(&mut self.buf[self.end..]);
        match out {
            ReadOutcome::Data(n) => self.end += n,
            ReadOutcome::Eof | ReadOutcome::Error(_) => self.eof = true,
            ReadOutcome::Pending => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::DirectReader;

    /// Hands out the input a few bytes at a time.
    struct Trickle(Vec<u8>, usize);
    impl ByteSource for Trickle {
        fn read_into(&mut self, buf: &mut [u8]) -> ReadOutcome {
            if self.0.is_empty() {
                return ReadOutcome::Eof;
            }
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            ReadOutcome::Data(n)
        }
    }

    fn split(max: usize, src: &mut dyn ByteSource) -> Vec<(String, u64)> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        loop {
            match s.next_line() {
                Line::Complete(r, n) => out.push((String::from_utf8_lossy(s.bytes(r)).into_owned(), n)),
                Line::Oversized(r, n) => out.push((format!("OVERSIZED:{}", s.bytes(r).len()), n)),
                Line::NeedMore => {
                    s.fill(src);
                }
                Line::Eof => return out,
            }
        }
    }

    #[test]
    fn splits_crlf_last_line_and_oversized() {
        let input = b"ab\r\n\nabcdefghijklmnop\ncd\nabcdefgh\nlast".to_vec();
        let expect = vec![
            ("ab".to_string(), 1),
            (String::new(), 2),
            ("OVERSIZED:9".into(), 3),
            ("cd".into(), 4),
            ("abcdefgh".into(), 5),
            ("last".into(), 6),
        ];
        for step in [1, 3, 100] {
            assert_eq!(split(8, &mut Trickle(input.clone(), step)), expect, "step {step}");
        }
        assert_eq!(split(8, &mut DirectReader::new(&input[..])), expect);
    }

    #[test]
    fn oversized_last_line_without_newline() {
        let input = b"ok\n0123456789012".to_vec();
        let got = split(8, &mut Trickle(input.clone(), 4));
        assert_eq!(got, vec![("ok".to_string(), 1), ("OVERSIZED:9".into(), 2)]);
    }
}
