//! `bittensor.log` rotated as bittensor's logger rotates it: bittensor 10.5.0 writes the file
//! through Python's `logging.handlers.RotatingFileHandler` with `maxBytes` 25 MiB and
//! `backupCount` 10 (`btlogging/defines.py`), and this file does what that handler does,
//! record by record:
//!
//! - before a record is written, when the file's size plus the record's reaches the limit,
//!   `bittensor.log.9` becomes `.10` (the old `.10` is deleted), ..., `.1` becomes `.2`, and
//!   `bittensor.log` becomes `.1`; then a new `bittensor.log` is written;
//! - with no backups, the file is never rotated (as Python's handler with `backupCount=0`);
//! - a path that exists but is not a regular file (`/dev/null`, a FIFO) is never rotated.
//!
//! One difference: Python counts a record's characters, this counts its bytes, so a line with
//! non-ASCII text reaches the limit a little earlier here.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// bittensor's `DEFAULT_MAX_ROTATING_LOG_FILE_SIZE`: 25 MiB.
pub const MAX_BYTES: u64 = 25 * 1024 * 1024;

/// bittensor's `DEFAULT_LOG_BACKUP_COUNT`: the rotated files kept (`.1` to `.10`).
pub const BACKUPS: u32 = 10;

/// A log file rotated by size, as Python's `RotatingFileHandler`; each `write` is one record
/// (as `tracing-subscriber` writes one event per call).
///
/// ```
/// use std::io::Write;
///
/// let dir = std::env::temp_dir().join(format!("axon-doc-rotation-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let log = axon::logging::RotatingFile::open(dir.join("bittensor.log"), 10, 2).unwrap();
/// for line in ["first\n", "second\n", "third\n"] {
///     (&log).write_all(line.as_bytes()).unwrap();
/// }
/// assert_eq!(std::fs::read_to_string(dir.join("bittensor.log")).unwrap(), "third\n");
/// assert_eq!(std::fs::read_to_string(dir.join("bittensor.log.1")).unwrap(), "second\n");
/// assert_eq!(std::fs::read_to_string(dir.join("bittensor.log.2")).unwrap(), "first\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct RotatingFile {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    path: PathBuf,
    file: File,
    max_bytes: u64,
    backups: u32,
}

impl RotatingFile {
    /// Opens `path` to append to (creating it and its directory), rotated at `max_bytes`
    /// (0: never) keeping `backups` old files.
    pub fn open(path: impl Into<PathBuf>, max_bytes: u64, backups: u32) -> io::Result<Self> {
        let path = path.into();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = append(&path)?;
        Ok(RotatingFile {
            state: Mutex::new(State {
                path,
                file,
                max_bytes,
                backups,
            }),
        })
    }

    /// Opens `path` with bittensor's limits: 25 MiB, 10 backups.
    pub fn bittensor(path: impl Into<PathBuf>) -> io::Result<Self> {
        RotatingFile::open(path, MAX_BYTES, BACKUPS)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A writer that panicked mid-record leaves nothing to repair.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// `RotatingFileHandler.shouldRollover`.
    fn should_rotate(&mut self, record: usize) -> io::Result<bool> {
        if self.max_bytes == 0 || !is_regular_or_absent(&self.path) {
            return Ok(false);
        }
        let at = self.file.seek(SeekFrom::End(0))?;
        Ok(at + record as u64 >= self.max_bytes)
    }

    /// `RotatingFileHandler.doRollover`.
    fn rotate(&mut self) -> io::Result<()> {
        if self.backups > 0 {
            for i in (1..self.backups).rev() {
                let from = numbered(&self.path, i);
                if from.exists() {
                    let to = numbered(&self.path, i + 1);
                    if to.exists() {
                        std::fs::remove_file(&to)?;
                    }
                    std::fs::rename(&from, &to)?;
                }
            }
            let first = numbered(&self.path, 1);
            if first.exists() {
                std::fs::remove_file(&first)?;
            }
            if self.path.exists() {
                std::fs::rename(&self.path, &first)?;
            }
        }
        self.file = append(&self.path)?;
        Ok(())
    }
}

impl Write for &RotatingFile {
    fn write(&mut self, record: &[u8]) -> io::Result<usize> {
        let mut state = self.state();
        if state.should_rotate(record.len())? {
            state.rotate()?;
        }
        state.file.write_all(record)?;
        Ok(record.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.state().file.flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RotatingFile {
    type Writer = &'a RotatingFile;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `bittensor.log.{i}`.
fn numbered(path: &Path, i: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{i}"));
    PathBuf::from(name)
}

/// Python's rule (bpo-45401): never rotate anything but a regular file.
fn is_regular_or_absent(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(m) => m.is_file(),
        Err(_) => true,
    }
}
