//! A gzip-compressed tar archive: written from files on disk and texts made
//! in memory, all under one top folder, and unpacked again.
//!
//! The workshop's offline bundle is one such archive. `tar` and `flate2`
//! (its pure-Rust backend) write it, so the runner needs no `tar` program:
//! the instructor may prepare the bundle on any machine cargo runs on, and
//! `tar -xzf`, which macOS, Linux and Windows 10 or newer all ship, unpacks it.
//!
//! Headers are written in tar's deterministic mode (owner 0, modes 644 or
//! 755 by the executable bit, one fixed time): the same files give the same
//! archive, and whoever unpacks it owns what comes out.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// What one entry of the archive holds.
pub enum Content {
    /// A file on disk, copied with its executable bit.
    File(PathBuf),
    /// A text made for the archive (e.g. a configuration file).
    Text(String),
}

/// One file in the archive, at `name` (with `/`) below the top folder.
pub struct Entry {
    pub name: String,
    pub content: Content,
}

/// Writes `entries` under the folder `top` into a `.tar.gz` at `path`,
/// through a temporary file renamed at the end (so a stopped run leaves no
/// archive that looks whole), and returns its size in bytes.
pub fn write(path: &Path, top: &str, entries: &[Entry]) -> Result<u64> {
    let partial = path.with_extension("partial");
    let written = write_to(&partial, top, entries);
    if let Err(err) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(err);
    }
    std::fs::rename(&partial, path)
        .with_context(|| format!("renaming the archive to {}", path.display()))?;
    Ok(std::fs::metadata(path)?.len())
}

fn write_to(partial: &Path, top: &str, entries: &[Entry]) -> Result<()> {
    let file = File::create(partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let gz = GzEncoder::new(BufWriter::new(file), Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for entry in entries {
        if entry.name.is_empty() || entry.name.split('/').any(|p| p == "..") {
            bail!(
                "refusing to archive {:?}: not a plain relative path",
                entry.name
            );
        }
        let name = format!("{top}/{}", entry.name);
        match &entry.content {
            Content::File(from) => tar
                .append_path_with_name(from, &name)
                .with_context(|| format!("archiving {}", from.display()))?,
            Content::Text(text) => {
                let mut header = tar::Header::new_gnu();
                header.set_size(text.len() as u64);
                header.set_mode(0o644);
                header.set_mtime(0);
                tar.append_data(&mut header, &name, text.as_bytes())
                    .with_context(|| format!("archiving {name}"))?;
            }
        }
    }
    let mut out = tar.into_inner()?.finish()?;
    out.flush()?;
    out.into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
        .context("writing the archive to disk")?;
    Ok(())
}

/// Unpacks the archive at `path` into the folder `into` (created if needed);
/// entries that would land outside it are refused by `tar` itself.
pub fn unpack(path: &Path, into: &Path) -> Result<()> {
    std::fs::create_dir_all(into)?;
    let file =
        File::open(path).with_context(|| format!("opening {}", path.display()))?;
    tar::Archive::new(GzDecoder::new(std::io::BufReader::new(file)))
        .unpack(into)
        .with_context(|| {
            format!("unpacking {} into {}", path.display(), into.display())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("xtask-archive-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn files_and_texts_come_back_under_the_top_folder_with_their_executable_bit() {
        let dir = scratch("round-trip");
        let script = dir.join("run");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        let entries = [
            Entry {
                name: ".ci/run".into(),
                content: Content::File(script),
            },
            Entry {
                name: ".cargo/config.toml".into(),
                content: Content::Text("[alias]\n".into()),
            },
        ];
        let archive = dir.join("course.tar.gz");
        let size = write(&archive, "course", &entries).unwrap();
        assert_eq!(size, std::fs::metadata(&archive).unwrap().len());
        assert!(
            !dir.join("course.partial").exists(),
            "no temporary file is left"
        );
        let out = dir.join("out");
        unpack(&archive, &out).unwrap();
        let config = std::fs::read_to_string(out.join("course/.cargo/config.toml"));
        assert_eq!(config.unwrap(), "[alias]\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("course/.ci/run"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111, "the script stays executable: {mode:o}");
        }
        // The same entries give the same bytes.
        let again = dir.join("again.tar.gz");
        write(&again, "course", &entries).unwrap();
        assert_eq!(
            std::fs::read(&archive).unwrap(),
            std::fs::read(&again).unwrap()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_file_or_a_path_out_of_the_folder_writes_no_archive() {
        let dir = scratch("refused");
        let archive = dir.join("course.tar.gz");
        let missing = [Entry {
            name: "gone.txt".into(),
            content: Content::File(dir.join("gone.txt")),
        }];
        let err = write(&archive, "course", &missing).unwrap_err();
        assert!(format!("{err:#}").contains("gone.txt"), "{err:#}");
        let escaping = [Entry {
            name: "../outside.txt".into(),
            content: Content::Text("x".into()),
        }];
        assert!(write(&archive, "course", &escaping).is_err());
        assert!(!archive.exists() && !dir.join("course.partial").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
