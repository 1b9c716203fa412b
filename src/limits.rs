//! Bounded input: every byte ddnsd reads from outside (an HTTP body, a command's output, a
//! DNS reply over TCP, the state file, the config and secret files) goes through [`Capped`],
//! so a broken or hostile peer, or a path naming the wrong thing, costs at most a fixed
//! amount of memory. Pure, but for the two readers at the end.

use std::fmt;

/// The most a reply body or a command's output may hold. Every API reply and echo answer
/// ddnsd reads is a few KiB at most; 64 KiB leaves room for a page of 100 records.
pub const MAX_REPLY: usize = 64 * 1024;

/// The most a request head (request line and headers) sent to the status server may hold.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// The most a state file may hold (about 40,000 records).
pub const MAX_STATE: usize = 16 * 1024 * 1024;

/// The most a config file may hold: a config with thousands of records is a few hundred
/// KiB; more means `-c` names something that is not a config (a log, a device).
pub const MAX_CONFIG: usize = 4 * 1024 * 1024;

/// The most a secret file (`X_file`) may hold: a key or a token is at most a few hundred
/// bytes.
pub const MAX_SECRET: usize = 64 * 1024;

/// A buffer that refuses to grow past its cap.
#[derive(Debug)]
pub struct Capped {
    buf: Vec<u8>,
    cap: usize,
}

/// The input was longer than the cap allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("longer than {}", human_size(*.cap))]
pub struct TooLarge {
    /// The cap that was exceeded, in bytes.
    pub cap: usize,
}

impl Capped {
    /// An empty buffer that holds at most `cap` bytes.
    pub fn new(cap: usize) -> Capped {
        Capped {
            buf: Vec::new(),
            cap,
        }
    }

    /// Appends `chunk`, or fails (keeping what was read) when it would pass the cap.
    pub fn extend(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        if self.buf.len().saturating_add(chunk.len()) > self.cap {
            return Err(TooLarge { cap: self.cap });
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// The bytes read so far.
    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// `65536` → `64 KiB`, `16777216` → `16 MiB`, `100` → `100 bytes`.
pub fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads `r` to its end, at most `cap` bytes.
pub async fn read_to_end<R>(r: &mut R, cap: usize) -> std::io::Result<Result<Vec<u8>, TooLarge>>
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut out = Capped::new(cap);
    let mut chunk = [0u8; 4096];
    loop {
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Ok(out.into_inner()));
        }
        if let Err(e) = out.extend(&chunk[..n]) {
            return Ok(Err(e));
        }
    }
}

/// Reads the file at `path` to its end, at most `cap` bytes: a path can name a device
/// (`/dev/zero`) or a file that never ends.
pub fn read_file(path: &std::path::Path, cap: usize) -> std::io::Result<Result<Vec<u8>, TooLarge>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut out = Capped::new(cap);
    let mut chunk = [0u8; 8192];
    loop {
        let n = f.read(&mut chunk)?;
        if n == 0 {
            return Ok(Ok(out.into_inner()));
        }
        if let Err(e) = out.extend(&chunk[..n]) {
            return Ok(Err(e));
        }
    }
}

impl fmt::Display for Capped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of at most {} bytes", self.buf.len(), self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_grow_past_the_cap() {
        let mut c = Capped::new(4);
        assert!(c.extend(b"ab").is_ok());
        assert!(c.extend(b"cd").is_ok());
        assert_eq!(c.extend(b"e"), Err(TooLarge { cap: 4 }));
        assert_eq!(c.into_inner(), b"abcd");
        assert_eq!(
            TooLarge { cap: MAX_REPLY }.to_string(),
            "longer than 64 KiB"
        );
        assert_eq!(human_size(100), "100 bytes");
        assert_eq!(human_size(MAX_STATE), "16 MiB");
    }

    #[test]
    fn files_are_read_at_most_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![7u8; 10_000]).unwrap();
        assert_eq!(read_file(&path, 10_000).unwrap().unwrap().len(), 10_000);
        assert_eq!(
            read_file(&path, 9_999).unwrap(),
            Err(TooLarge { cap: 9_999 })
        );
        // A device that never ends is read only to the cap.
        let zero = std::path::Path::new("/dev/zero");
        assert_eq!(
            read_file(zero, 100_000).unwrap(),
            Err(TooLarge { cap: 100_000 })
        );
        assert!(read_file(&dir.path().join("missing"), 1).is_err());
    }

    #[tokio::test]
    async fn reads_at_most_the_cap() {
        let data = vec![7u8; 10_000];
        let got = read_to_end(&mut &data[..], 20_000).await.unwrap().unwrap();
        assert_eq!(got.len(), 10_000);
        let over = read_to_end(&mut &data[..], 9_999).await.unwrap();
        assert_eq!(over, Err(TooLarge { cap: 9_999 }));
    }
}
