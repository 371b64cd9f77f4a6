//! Input for the decoder: a byte slice (payloads borrowed, zero copy) or
//! any buffered reader (payloads copied as they arrive, never read past the
//! STOP of the current pickle).

use crate::error::{Error, ErrorKind, Result};
use std::borrow::Cow;
use std::io::BufRead;

/// What the decoder reads from. Implemented for [`SliceRead`] and [`IoRead`].
pub trait Read<'a> {
    /// True when payloads are borrowed from the input rather than allocated.
    const BORROWS: bool;
    /// The next byte, or `None` at the end of the input.
    fn next_byte(&mut self) -> Result<Option<u8>>;
    /// Exactly `n` bytes. `n` comes from the input: implementations must not
    /// allocate more than the input really holds.
    fn read_bytes(&mut self, n: u64) -> Result<Cow<'a, [u8]>>;
    /// Exactly `N` bytes.
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]>;
    /// A line, without its `\n`, of at most `max` bytes.
    fn read_line(&mut self, max: u64) -> Result<Cow<'a, [u8]>>;
    /// Bytes consumed so far.
    fn offset(&self) -> u64;
    /// A FRAME of `len` bytes starts here.
    fn frame(&mut self, len: u64) -> Result<()>;
}

fn truncated(what: &'static str) -> Error {
    Error::new(ErrorKind::Truncated(what))
}

/// A byte slice; `bytes` and `str` payloads are borrowed from it.
pub struct SliceRead<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceRead<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        SliceRead { data, pos: 0 }
    }
    /// What is left after the bytes consumed so far.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

impl<'a> Read<'a> for SliceRead<'a> {
    const BORROWS: bool = true;

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        let b = self.data.get(self.pos).copied();
        if b.is_some() {
            self.pos += 1;
        }
        Ok(b)
    }

    #[inline]
    fn read_bytes(&mut self, n: u64) -> Result<Cow<'a, [u8]>> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(truncated("a length runs past the end of the input"));
        }
        let n = n as usize;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(Cow::Borrowed(s))
    }

    #[inline]
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        match self.data.get(self.pos..self.pos + N) {
            Some(s) => {
                self.pos += N;
                let mut a = [0u8; N];
                a.copy_from_slice(s);
                Ok(a)
            }
            None => Err(truncated("an argument runs past the end of the input")),
        }
    }

    fn read_line(&mut self, max: u64) -> Result<Cow<'a, [u8]>> {
        let rest = &self.data[self.pos..];
        let limit = rest.len().min(usize::try_from(max).unwrap_or(usize::MAX).saturating_add(1));
        match rest[..limit].iter().position(|&b| b == b'\n') {
            Some(n) => {
                self.pos += n + 1;
                Ok(Cow::Borrowed(&rest[..n]))
            }
            None if limit < rest.len() => {
                Err(Error::new(ErrorKind::LimitExceeded(format!("a line longer than {max} bytes"))))
            }
            None => Err(truncated("a line has no newline before the end of the input")),
        }
    }

    #[inline]
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn frame(&mut self, len: u64) -> Result<()> {
        if len > (self.data.len() - self.pos) as u64 {
            return Err(truncated("a FRAME runs past the end of the input"));
        }
        Ok(())
    }
}

/// A buffered reader. It consumes exactly the bytes of each pickle, so a
/// stream can hold several pickles back to back and the reader is left
/// right after the STOP of the one decoded. Wrap a `File` or socket in a
/// `std::io::BufReader` (and keep it for the next pickle).
pub struct IoRead<'r, R: BufRead> {
    reader: &'r mut R,
    pos: u64,
}

impl<'r, R: BufRead> IoRead<'r, R> {
    pub fn new(reader: &'r mut R) -> Self {
        IoRead { reader, pos: 0 }
    }

    fn fill(&mut self) -> Result<&[u8]> {
        // Retry interrupted reads; the second `fill_buf` only returns what
        // the first one buffered.
        while let Err(e) = self.reader.fill_buf() {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e.into());
            }
        }
        Ok(self.reader.fill_buf()?)
    }

    /// Copies exactly `n` bytes into `out`, growing it only as data arrives.
    fn copy_into(&mut self, out: &mut Vec<u8>, mut n: u64) -> Result<()> {
        while n > 0 {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Err(truncated("the input ended inside an argument"));
            }
            let take = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            out.extend_from_slice(&buf[..take]);
            self.reader.consume(take);
            self.pos += take as u64;
            n -= take as u64;
        }
        Ok(())
    }
}

impl<'a, R: BufRead> Read<'a> for IoRead<'_, R> {
    const BORROWS: bool = false;

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        // Fast path: the byte is buffered already (one `fill_buf`, which
        // only returns the buffered bytes, instead of `fill`'s two).
        if let Ok(&[b, ..]) = self.reader.fill_buf() {
            self.reader.consume(1);
            self.pos += 1;
            return Ok(Some(b));
        }
        let b = self.fill()?.first().copied();
        if b.is_some() {
            self.reader.consume(1);
            self.pos += 1;
        }
        Ok(b)
    }

    #[inline]
    fn read_bytes(&mut self, n: u64) -> Result<Cow<'a, [u8]>> {
        // Fast path: the whole payload is buffered already.
        if let Ok(buf) = self.reader.fill_buf() {
            if let Some(s) = usize::try_from(n).ok().and_then(|n| buf.get(..n)) {
                let out = s.to_vec();
                self.reader.consume(out.len());
                self.pos += n;
                return Ok(Cow::Owned(out));
            }
        }
        // Reserve no more than a chunk up front: a length in a hostile
        // stream is not a promise that the bytes exist.
        let mut out = Vec::with_capacity(n.min(1 << 16) as usize);
        self.copy_into(&mut out, n)?;
        Ok(Cow::Owned(out))
    }

    #[inline]
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        // Fast path: the N bytes are buffered already.
        if let Ok(buf) = self.reader.fill_buf() {
            if let Some(s) = buf.get(..N) {
                let a: [u8; N] = s.try_into().expect("N bytes");
                self.reader.consume(N);
                self.pos += N as u64;
                return Ok(a);
            }
        }
        let mut a = [0u8; N];
        let mut got = 0;
        while got < N {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Err(truncated("the input ended inside an argument"));
            }
            let take = buf.len().min(N - got);
            a[got..got + take].copy_from_slice(&buf[..take]);
            self.reader.consume(take);
            got += take;
        }
        self.pos += N as u64;
        Ok(a)
    }

    fn read_line(&mut self, max: u64) -> Result<Cow<'a, [u8]>> {
        let mut out = Vec::new();
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Err(truncated("a line has no newline before the end of the input"));
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(n) => (n + 1, true),
                None => (buf.len(), false),
            };
            let body = if done { take - 1 } else { take };
            if (out.len() + body) as u64 > max {
                return Err(Error::new(ErrorKind::LimitExceeded(format!("a line longer than {max} bytes"))));
            }
            out.extend_from_slice(&buf[..body]);
            self.reader.consume(take);
            self.pos += take as u64;
            if done {
                return Ok(Cow::Owned(out));
            }
        }
    }

    fn offset(&self) -> u64 {
        self.pos
    }

    fn frame(&mut self, _len: u64) -> Result<()> {
        // The reader is buffered already; a frame is only a hint here, and
        // reading it ahead could read past the end of the pickle.
        Ok(())
    }
}

/// Any `io::Read`, unbuffered: the decoder reads each FRAME whole, in one
/// go (so protocol 4 and 5 pickles cost a few large reads), reads single
/// opcodes outside frames, and never reads a byte past the STOP of the
/// pickle. Use it for a socket or pipe that other code reads after the
/// pickle; for files, [`IoRead`] over a `BufReader` is faster.
pub struct FrameRead<'r, R: std::io::Read> {
    reader: &'r mut R,
    /// The unread rest of the current frame.
    frame: Vec<u8>,
    at: usize,
    pos: u64,
}

impl<'r, R: std::io::Read> FrameRead<'r, R> {
    pub fn new(reader: &'r mut R) -> Self {
        FrameRead::with_pending(reader, Vec::new())
    }

    /// A reader that first serves `pending`: frame bytes an earlier pickle
    /// read from the same reader but did not use (a FRAME that went on past
    /// its STOP). CPython's unpickler keeps them in its buffer the same way.
    pub fn with_pending(reader: &'r mut R, pending: Vec<u8>) -> Self {
        FrameRead { reader, frame: pending, at: 0, pos: 0 }
    }

    /// The frame bytes read but not used, for the next pickle on this reader.
    pub fn into_pending(mut self) -> Vec<u8> {
        self.frame.drain(..self.at);
        self.frame
    }

    /// Some bytes into `out` straight from the reader; 0 at its end.
    fn read_some(&mut self, out: &mut [u8]) -> Result<usize> {
        loop {
            match self.reader.read(out) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Appends exactly `n` bytes from the reader to `out`, growing it only
    /// as bytes arrive; `what` names the thing that was cut short.
    fn read_into(&mut self, out: &mut Vec<u8>, mut n: u64, what: &'static str) -> Result<()> {
        let mut chunk = [0u8; 8192];
        while n > 0 {
            let want = chunk.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            let got = self.read_some(&mut chunk[..want])?;
            if got == 0 {
                return Err(truncated(what));
            }
            out.extend_from_slice(&chunk[..got]);
            n -= got as u64;
        }
        Ok(())
    }

    /// Appends exactly `n` bytes to `out`: first from the frame, then from the reader.
    fn take_into(&mut self, out: &mut Vec<u8>, n: u64) -> Result<()> {
        let from_frame = (self.frame.len() - self.at).min(usize::try_from(n).unwrap_or(usize::MAX));
        out.extend_from_slice(&self.frame[self.at..self.at + from_frame]);
        self.at += from_frame;
        self.read_into(out, n - from_frame as u64, "the input ended inside an argument")
    }
}

impl<'a, R: std::io::Read> Read<'a> for FrameRead<'_, R> {
    const BORROWS: bool = false;

    fn next_byte(&mut self) -> Result<Option<u8>> {
        if let Some(&b) = self.frame.get(self.at) {
            self.at += 1;
            self.pos += 1;
            return Ok(Some(b));
        }
        let mut b = [0u8; 1];
        match self.read_some(&mut b)? {
            0 => Ok(None),
            _ => {
                self.pos += 1;
                Ok(Some(b[0]))
            }
        }
    }

    fn read_bytes(&mut self, n: u64) -> Result<Cow<'a, [u8]>> {
        let mut out = Vec::with_capacity(n.min(1 << 16) as usize);
        self.take_into(&mut out, n)?;
        self.pos += n;
        Ok(Cow::Owned(out))
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = Vec::with_capacity(N);
        self.take_into(&mut out, N as u64)?;
        self.pos += N as u64;
        let mut a = [0u8; N];
        a.copy_from_slice(&out);
        Ok(a)
    }

    fn read_line(&mut self, max: u64) -> Result<Cow<'a, [u8]>> {
        let mut out = Vec::new();
        loop {
            let Some(b) = self.next_byte()? else {
                return Err(truncated("a line has no newline before the end of the input"));
            };
            if b == b'\n' {
                return Ok(Cow::Owned(out));
            }
            if out.len() as u64 >= max {
                return Err(Error::new(ErrorKind::LimitExceeded(format!("a line longer than {max} bytes"))));
            }
            out.push(b);
        }
    }

    fn offset(&self) -> u64 {
        self.pos
    }

    fn frame(&mut self, len: u64) -> Result<()> {
        // Keep what is left of the previous frame, then read this one whole.
        self.frame.drain(..self.at);
        self.at = 0;
        let mut frame = std::mem::take(&mut self.frame);
        let read = self.read_into(&mut frame, len, "a FRAME runs past the end of the input");
        self.frame = frame;
        read
    }
}
