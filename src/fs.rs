//! Writing files so that nothing is lost: every output is checked before any work
//! ([`check_output`]), written whole to a temporary file beside its target ([`stage`]) and
//! renamed over the target only when every output of the run is written ([`commit`]), so a
//! reader never sees a partial file and a failure leaves every old file as it was.
//!
//! The temporaries come from the `tempfile` crate: it creates them with O_CREAT|O_EXCL under
//! random names (a file planted at a predictable name cannot redirect the write) and removes
//! them when dropped (a failed run leaves none behind). A symbolic link is followed: the file
//! it points to is replaced. A character device or FIFO (`/dev/stdout`, a named pipe) cannot
//! be renamed over; it is written directly, at commit.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::{Builder, NamedTempFile};

/// Longest file name most file systems accept (NAME_MAX), in bytes.
const NAME_MAX: usize = 255;
/// Bytes the temporary's name adds to the target's: ".", "." + 6 random characters, ".tmp".
const TEMP_EXTRA: usize = 1 + 1 + 6 + 4;

/// Where the bytes for an output path end up.
#[derive(Debug)]
enum Target {
    /// A regular file (or a new one): written through a temporary renamed over it.
    File(PathBuf),
    /// A character device or FIFO: written directly.
    Direct(PathBuf),
}

/// `path` with symbolic links followed to the file they name (which may not exist yet).
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&path)?;
                path = if link.is_absolute() { link } else { parent_dir(&path).join(link) };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The directory `path` is in ("." for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn target(path: &Path) -> io::Result<Target> {
    let path = follow_links(path)?;
    match fs::metadata(&path) {
        Ok(meta) if meta.file_type().is_char_device() || meta.file_type().is_fifo() => Ok(Target::Direct(path)),
        Ok(meta) if meta.is_dir() => Err(io::Error::other("is a directory")),
        Ok(meta) if !meta.is_file() => Err(io::Error::other("is not a regular file, a character device or a FIFO")),
        _ => Ok(Target::File(path)),
    }
}

/// Whether `path` names a character device or FIFO (written directly, never renamed over).
pub fn is_device(path: &Path) -> bool {
    matches!(target(path), Ok(Target::Direct(_)))
}

fn name_of(path: &Path) -> io::Result<&OsStr> {
    path.file_name().ok_or_else(|| io::Error::other("has no file name"))
}

/// A new temporary beside the target. It is created with mode 0666 less the umask, as
/// `File::create` would create the target itself (tempfile's own default, 0600, would leave
/// the user's outputs readable by no one else).
fn temp_in(dir: &Path, name: &OsStr) -> io::Result<NamedTempFile> {
    let prefix = format!(".{}.", name.to_string_lossy());
    let as_file_create = fs::Permissions::from_mode(0o666);
    Builder::new().prefix(&prefix).suffix(".tmp").rand_bytes(6).permissions(as_file_create).tempfile_in(dir)
}

/// Checks that `path` can be written, before any work: its directory exists and is writable
/// (a temporary is created there and removed), it is not a directory, and its name is short
/// enough to carry the temporary's suffix. The error says what is wrong, in a few words.
pub fn check_output(path: &Path) -> Result<(), String> {
    let target = target(path).map_err(|e| e.to_string())?;
    let Target::File(file) = target else { return Ok(()) };
    let name = name_of(&file).map_err(|e| e.to_string())?;
    if name.len() + TEMP_EXTRA > NAME_MAX {
        return Err(format!("file name too long ({} bytes; at most {})", name.len(), NAME_MAX - TEMP_EXTRA));
    }
    let dir = parent_dir(&file);
    if !dir.is_dir() {
        return Err(format!("no directory {}", crate::shown::path(dir)));
    }
    temp_in(dir, name).map(drop).map_err(|e| format!("cannot create a file in {}: {e}", crate::shown::path(dir)))
}

/// An output written to its temporary (or held, for a device), waiting for [`commit`].
#[derive(Debug)]
pub struct Staged {
    kind: StagedKind,
}

#[derive(Debug)]
enum StagedKind {
    File { temp: NamedTempFile, target: PathBuf },
    Direct { bytes: Vec<u8>, target: PathBuf },
}

/// Writes the bytes `write` produces for `path` to a new temporary beside it (synced to disk),
/// or holds them for a device; nothing at `path` changes until [`commit`].
pub fn stage(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<Staged> {
    match target(path)? {
        Target::Direct(target) => {
            let mut bytes = Vec::new();
            write(&mut bytes)?;
            Ok(Staged { kind: StagedKind::Direct { bytes, target } })
        }
        Target::File(target) => {
            let mut temp = temp_in(parent_dir(&target), name_of(&target)?)?;
            let mut out = BufWriter::new(temp.as_file_mut());
            write(&mut out)?;
            out.flush()?;
            drop(out);
            temp.as_file().sync_all()?;
            Ok(Staged { kind: StagedKind::File { temp, target } })
        }
    }
}

/// Moves every staged output into place: writes the devices' bytes first (the one step that
/// can fail for want of room or a reader), then renames the temporaries over their targets.
/// On an error the temporaries not yet renamed are removed; the error names the target.
///
/// `stop` is asked before each device is written and once before the renames; its error ends
/// the commit with no regular file replaced and every temporary removed (a device written
/// before it keeps what it got). The renames are never stopped halfway: they take a few
/// system calls, and a commit cut short among them would leave new and old files side by
/// side, the one thing committing together is there to prevent.
pub fn commit<E: From<io::Error>>(staged: Vec<Staged>, stop: impl Fn() -> Result<(), E>) -> Result<(), E> {
    let (mut direct, mut files) = (Vec::new(), Vec::new());
    for staged in staged {
        match staged.kind {
            StagedKind::Direct { bytes, target } => direct.push((bytes, target)),
            StagedKind::File { temp, target } => files.push((temp, target)),
        }
    }
    for (bytes, target) in direct {
        stop()?;
        fs::OpenOptions::new()
            .write(true)
            .open(&target)
            .and_then(|mut file| file.write_all(&bytes))
            .map_err(|e| naming("writing", &target, e))?;
    }
    stop()?;
    for (temp, target) in files {
        temp.persist(&target).map_err(|e| naming("moving the written file to", &target, e.error))?;
    }
    Ok(())
}

/// `err` with what was being done to `path` in front, keeping its kind.
fn naming(doing: &str, path: &Path, err: io::Error) -> io::Error {
    io::Error::new(err.kind(), format!("{doing} {}: {err}", crate::shown::path(path)))
}

/// Writes `path` atomically with the bytes `write` produces ([`stage`] then [`commit`]).
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    commit(vec![stage(path, write)?], || Ok::<_, io::Error>(()))
}

/// Writes a new file in `dir` named `{stem}.{extension}`, or `{stem}-2.{extension}`, `-3` …
/// when that name is taken, and returns its path: written whole to a temporary first, then
/// linked to the free name (tempfile's `persist_noclobber`), so no existing file is ever
/// replaced, not even one created meanwhile by another process.
pub fn write_new(
    dir: &Path,
    stem: &str,
    extension: &str,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let first = dir.join(format!("{stem}.{extension}"));
    let mut temp = temp_in(dir, name_of(&first)?).map_err(|e| naming("cannot create a file in", dir, e))?;
    {
        let mut out = BufWriter::new(temp.as_file_mut());
        write(&mut out).and_then(|()| out.flush()).map_err(|e| naming("cannot write", &first, e))?;
    }
    for n in 1.. {
        let path = if n == 1 { first.clone() } else { dir.join(format!("{stem}-{n}.{extension}")) };
        match temp.persist_noclobber(&path) {
            Ok(_) => return Ok(path),
            Err(err) if err.error.kind() == io::ErrorKind::AlreadyExists => temp = err.file,
            Err(err) => return Err(naming("cannot write", &path, err.error)),
        }
    }
    unreachable!("some name is free")
}

/// `time` as UTC `YYYYMMDD-HHMMSS`, for file names that sort by when they were made.
pub fn utc_stamp(time: std::time::SystemTime) -> String {
    let seconds = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, in_day) = (seconds / 86_400, seconds % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (in_day / 3600, in_day % 3600 / 60, in_day % 60);
    format!("{year:04}{month:02}{day:02}-{h:02}{m:02}{s:02}")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// Against dates computed independently (`date -u -d @SECONDS +%Y%m%d-%H%M%S`).
    #[test]
    fn utc_stamps_of_known_instants() {
        for (seconds, want) in [
            (0, "19700101-000000"),
            (951_782_400, "20000229-000000"),
            (1_798_761_599, "20261231-235959"),
            (1_796_514_165, "20261205-234245"),
            (4_107_542_400, "21000301-000000"),
        ] {
            assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(seconds)), want, "{seconds}");
        }
    }

    #[test]
    fn write_new_never_replaces_a_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let write = |text: &'static str| move |out: &mut dyn Write| out.write_all(text.as_bytes());
        let first = write_new(dir.path(), "drawing", "csv", write("one")).expect("first");
        let second = write_new(dir.path(), "drawing", "csv", write("two")).expect("second");
        let third = write_new(dir.path(), "drawing", "csv", write("three")).expect("third");
        assert_eq!(first, dir.path().join("drawing.csv"));
        assert_eq!(second, dir.path().join("drawing-2.csv"));
        assert_eq!(third, dir.path().join("drawing-3.csv"));
        assert_eq!(fs::read_to_string(&first).unwrap(), "one");
        assert_eq!(fs::read_to_string(&second).unwrap(), "two");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 3, "no temporaries left: {left:?}");
    }

    #[test]
    fn write_new_in_a_missing_directory_names_it() {
        let err = write_new(Path::new("/nonexistent-dir"), "drawing", "csv", |_| Ok(())).expect_err("no directory");
        assert!(err.to_string().contains("/nonexistent-dir"), "{err}");
    }
}
