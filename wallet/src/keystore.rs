//! Keyfiles on disk: `<data-dir>/<network>/<name>.json`, the folder 0700 and the files 0600,
//! written atomically (temp file in the same folder, fsync, rename or link, fsync the folder) and
//! never overwritten unless asked.

use anyhow::{Context, bail};
use oxcoin::Network;
use oxcoin::keyfile::{Keyfile, validate_name};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// No keyfile is this large; a bigger file is refused before it is read.
const MAX_KEYFILE_BYTES: u64 = 16 * 1024;

/// The keyfiles of one network.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
    network: Network,
}

/// A keyfile read from disk, with where it came from.
#[derive(Debug)]
pub struct Loaded {
    /// The checked keyfile.
    pub keyfile: Keyfile,
    /// Its path.
    pub path: PathBuf,
    /// The exact bytes read (rewrites compare against nothing else).
    pub bytes: Vec<u8>,
}

impl Keystore {
    /// The keystore of `network` under `data_dir`.
    pub fn new(data_dir: &Path, network: Network) -> Self {
        Self { dir: data_dir.join(network.as_str()), network }
    }

    /// The network's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of wallet `name`.
    ///
    /// # Errors
    /// A name that cannot be a file name.
    pub fn path(&self, name: &str) -> anyhow::Result<PathBuf> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Fails if wallet `name` exists and `force` is not set.
    ///
    /// # Errors
    /// The keyfile exists.
    pub fn check_free(&self, name: &str, force: bool) -> anyhow::Result<PathBuf> {
        let path = self.path(name)?;
        if !force && path.exists() {
            bail!(
                "wallet {name:?} already exists at {}; choose another --name, or pass --force to replace it (its key is lost unless you hold its recovery phrase)",
                path.display()
            );
        }
        Ok(path)
    }

    /// Reads and checks wallet `name`: size, JSON, every field, and that it is for this network.
    /// Warns on stderr when the file is readable by group or others.
    ///
    /// # Errors
    /// A missing, unreadable, truncated, tampered or foreign keyfile.
    pub fn load(&self, name: &str) -> anyhow::Result<Loaded> {
        let path = self.path(name)?;
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => bail!(
                "no wallet {name:?} on the {} network (looked for {}); create one with `oxwallet --network {} new --name {name}`",
                self.network,
                path.display(),
                self.network
            ),
            Err(error) => return Err(error).with_context(|| format!("reading keyfile {}", path.display())),
        };
        if metadata.len() > MAX_KEYFILE_BYTES {
            bail!(
                "keyfile {} is {} bytes, far more than a keyfile holds: it is not a keyfile",
                path.display(),
                metadata.len()
            );
        }
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "oxwallet: warning: keyfile {} can be read by other users (mode {:o}); fix it with: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading keyfile {}", path.display()))?;
        let keyfile = Keyfile::from_json(&bytes).with_context(|| format!("keyfile {}", path.display()))?;
        if keyfile.network() != self.network {
            bail!(
                "keyfile {} is for the {} network, not {}; pass --network {}",
                path.display(),
                keyfile.network(),
                self.network,
                keyfile.network()
            );
        }
        Ok(Loaded { keyfile, path, bytes })
    }

    /// Lists the wallets of the network by name: each keyfile, or why it could not be read.
    ///
    /// # Errors
    /// The folder exists but cannot be listed.
    pub fn list(&self) -> anyhow::Result<Vec<(String, anyhow::Result<Keyfile>)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error).with_context(|| format!("listing {}", self.dir.display())),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_owned))
            .filter(|name| validate_name(name).is_ok())
            .collect();
        names.sort();
        Ok(names
            .into_iter()
            .map(|name| {
                let keyfile = self.load(&name).map(|loaded| loaded.keyfile);
                (name, keyfile)
            })
            .collect())
    }

    /// Writes `bytes` as wallet `name` atomically, mode 0600 in a 0700 folder. Without
    /// `overwrite`, an existing file is never replaced, even one that appears meanwhile.
    ///
    /// # Errors
    /// The file exists (without `overwrite`), or the write fails; nothing is left half-written.
    pub fn write(&self, name: &str, bytes: &[u8], overwrite: bool) -> anyhow::Result<PathBuf> {
        let path = self.path(name)?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        write_atomically(&self.dir, &path, bytes, overwrite).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// Temp file in the same folder, fsync, then rename (replace) or hard link (no replace), fsync
/// the folder.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8], overwrite: bool) -> anyhow::Result<()> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("no random bytes from the OS: {e}"))?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("keyfile");
    let tmp = dir.join(format!(".{file_name}.{}.tmp", hex::encode(suffix)));
    let result = (|| -> anyhow::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if overwrite {
            std::fs::rename(&tmp, path)?;
        } else {
            match std::fs::hard_link(&tmp, path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    bail!("{} already exists; pass --force to replace it", path.display())
                }
                Err(error) => return Err(error.into()),
            }
            std::fs::remove_file(&tmp)?;
        }
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_0600_in_a_0700_folder_and_never_overwrites_without_asking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Keystore::new(dir.path(), Network::Dev);
        let path = store.write("a", b"one", false).expect("first write");
        assert_eq!(std::fs::metadata(&path).expect("file").permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(store.dir()).expect("dir").permissions().mode() & 0o777, 0o700);
        assert!(store.write("a", b"two", false).is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"one");
        store.write("a", b"three", true).expect("overwrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"three");
        // No temp file is left behind.
        assert_eq!(std::fs::read_dir(store.dir()).expect("list").count(), 1);
        assert!(store.path("../evil").is_err());
    }
}
