//! The local store: files in a directory (by default `.omniform/<stack>/` next to the stack).
//!
//! ```text
//! snapshots/0000000001.json   immutable, one per write
//! journal.jsonl               operations of the apply under way (or of one that died)
//! lock.json                   the lock, while held
//! state.key                   the encryption key, mode 0600, unless OMNIFORM_STATE_KEY is set
//! ```
//!
//! Writes are crash-safe: a snapshot is written to a temporary file, synced, linked into
//! place (which fails rather than replace an existing serial) and the directory synced.
//! Journal lines are written with one `write` each as operations finish, so a killed
//! process loses nothing it finished; they are synced in groups, so the cost of an apply
//! stays linear.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::crypto::Cipher;
use crate::format::{self, JournalLine, StoredHeader};
use crate::lock::{LockGuard, LockInfo};
use crate::snapshot::{ChangeCounts, Snapshot, StateOp};
use crate::{HistoryEntry, Recorder, StateError, StateStore};

/// Group commit: the journal is synced after this many lines or this much time.
const SYNC_EVERY_LINES: usize = 256;
const SYNC_EVERY: Duration = Duration::from_millis(100);

/// How often a waiting lock is tried again.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// State in local files.
#[derive(Debug)]
pub struct LocalStore {
    dir: PathBuf,
    stack: String,
    env_key: Option<String>,
    cipher: OnceLock<Cipher>,
    notice: Mutex<Option<String>>,
}

fn sync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StateError::io(format!(
            "syncing directory {}",
            dir.display()
        )))
}

/// Writes `bytes` to `path` only if nothing is there yet: temporary file, sync, hard link.
fn create_exclusive(path: &Path, bytes: &[u8]) -> Result<bool, StateError> {
    let dir = path.parent().expect("state files live in a directory");
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    {
        let mut f =
            File::create(&tmp).map_err(StateError::io(format!("creating {}", tmp.display())))?;
        f.write_all(bytes)
            .map_err(StateError::io(format!("writing {}", tmp.display())))?;
        f.sync_all()
            .map_err(StateError::io(format!("syncing {}", tmp.display())))?;
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(StateError::Io {
            context: format!("linking {}", path.display()),
            source: e,
        }),
    }
}

impl LocalStore {
    /// A store in `dir` for `stack`. `env_key` is `OMNIFORM_STATE_KEY` if set; otherwise a
    /// key file in `dir` is used, made on the first write.
    pub fn open(
        dir: impl Into<PathBuf>,
        stack: &str,
        env_key: Option<String>,
    ) -> Result<Self, StateError> {
        let store = Self {
            dir: dir.into(),
            stack: stack.to_string(),
            env_key,
            cipher: OnceLock::new(),
            notice: Mutex::new(None),
        };
        if let Some(text) = &store.env_key {
            let _ = store
                .cipher
                .set(Cipher::from_text(text, "OMNIFORM_STATE_KEY")?);
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn snapshots_dir(&self) -> PathBuf {
        self.dir.join("snapshots")
    }

    fn snapshot_path(&self, serial: u64) -> PathBuf {
        self.snapshots_dir().join(format!("{serial:010}.json"))
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join("lock.json")
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("state.key")
    }

    fn ensure_dirs(&self) -> Result<(), StateError> {
        fs::create_dir_all(self.snapshots_dir()).map_err(StateError::io(format!(
            "creating state directory {}",
            self.dir.display()
        )))
    }

    /// The cipher; with `create`, a missing key file is made.
    fn cipher_for(&self, create: bool) -> Result<&Cipher, StateError> {
        if let Some(c) = self.cipher.get() {
            return Ok(c);
        }
        let path = self.key_path();
        let source = format!("key file {}", path.display());
        match fs::read_to_string(&path) {
            Ok(text) => {
                let c = Cipher::from_text(&text, &source)?;
                Ok(self.cipher.get_or_init(|| c))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                self.ensure_dirs()?;
                let (c, text) = Cipher::generate(&source)?;
                write_key_file(&path, &text)?;
                *self.notice.lock().expect("notice lock") = Some(format!(
                    "created a new state encryption key in {}: sensitive values in state are encrypted with it; keep it safe (without it they cannot be read), or set OMNIFORM_STATE_KEY to use your own",
                    path.display()
                ));
                Ok(self.cipher.get_or_init(|| c))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StateError::WrongKey {
                source_of_key: format!(
                    "{} is missing and OMNIFORM_STATE_KEY is not set",
                    path.display()
                ),
            }),
            Err(e) => Err(StateError::Io {
                context: format!("reading {}", path.display()),
                source: e,
            }),
        }
    }

    /// Serials of the snapshots on disk, ascending.
    fn serials(&self) -> Result<Vec<u64>, StateError> {
        let dir = self.snapshots_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StateError::Io {
                    context: format!("listing {}", dir.display()),
                    source: e,
                });
            }
        };
        let mut serials: Vec<u64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
            .collect();
        serials.sort_unstable();
        Ok(serials)
    }

    fn read_file(&self, serial: u64) -> Result<Snapshot, StateError> {
        let path = self.snapshot_path(serial);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StateError::NoSuchSerial { serial });
            }
            Err(e) => {
                return Err(StateError::Io {
                    context: format!("reading {}", path.display()),
                    source: e,
                });
            }
        };
        format::decode_snapshot(&bytes, &path.display().to_string(), self.cipher_for(false)?)
    }

    /// The newest snapshot on disk, without the journal.
    fn latest_on_disk(&self) -> Result<Option<Snapshot>, StateError> {
        match self.serials()?.last() {
            Some(&serial) => self.read_file(serial).map(Some),
            None => Ok(None),
        }
    }

    /// The journal's operations, if it applies on top of `base` (lineage and serial).
    /// A torn last line (the process died while writing it) is ignored.
    fn journal_ops(
        &self,
        base: Option<&Snapshot>,
    ) -> Result<Option<(Snapshot, Vec<StateOp>)>, StateError> {
        let path = self.journal_path();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StateError::Io {
                    context: format!("reading {}", path.display()),
                    source: e,
                });
            }
        };
        let mut lines = BufReader::new(file).lines();
        let Some(Ok(first)) = lines.next() else {
            return Ok(None);
        };
        let Ok(JournalLine::Begin {
            stack,
            lineage,
            base_serial,
            key_check,
            ..
        }) = serde_json::from_str(&first)
        else {
            return Ok(None);
        };
        let current_serial = base.map(|b| b.serial).unwrap_or(0);
        if base.is_some_and(|b| b.lineage != lineage) || base_serial != current_serial {
            // Left over from an apply whose snapshot was written; nothing to replay.
            return Ok(None);
        }
        let cipher = self.cipher_for(false)?;
        cipher.verify(&key_check)?;
        let mut snapshot = match base {
            Some(b) => b.clone(),
            None => {
                let mut s = Snapshot::empty(&stack);
                s.lineage = lineage;
                s
            }
        };
        let mut ops = Vec::new();
        for line in lines {
            let Ok(line) = line else { break };
            let Ok(parsed) = serde_json::from_str::<JournalLine>(&line) else {
                break;
            };
            if let Some(op) = format::decode_op(&parsed, cipher)? {
                snapshot.apply_op(op.clone());
                ops.push(op);
            }
        }
        Ok(Some((snapshot, ops)))
    }
}

fn write_key_file(path: &Path, text: &str) -> Result<(), StateError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(StateError::io(format!("creating {}", path.display())))?;
    f.write_all(format!("{text}\n").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(StateError::io(format!("writing {}", path.display())))?;
    let dir = path.parent().expect("the key lives in a directory");
    // Whoever commits the state directory does not commit the key with it.
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        fs::write(
            &ignore,
            "# Written by omniform: the state key stays out of version control.\nstate.key\n",
        )
        .map_err(StateError::io(format!("writing {}", ignore.display())))?;
    }
    sync_dir(dir)
}

/// Appends finished operations to the journal.
#[derive(Debug)]
struct Journal {
    file: Mutex<(File, usize, Instant)>,
    cipher: Cipher,
    path: PathBuf,
}

impl Recorder for Journal {
    fn record(&self, op: &StateOp) -> Result<(), StateError> {
        let line = format::encode_op(op, &self.cipher)?;
        let mut bytes = serde_json::to_vec(&line).expect("journal lines serialize");
        bytes.push(b'\n');
        let mut guard = self.file.lock().expect("journal lock");
        let (file, since_sync, last_sync) = &mut *guard;
        file.write_all(&bytes).map_err(StateError::io(format!(
            "appending to {}",
            self.path.display()
        )))?;
        *since_sync += 1;
        if *since_sync >= SYNC_EVERY_LINES || last_sync.elapsed() >= SYNC_EVERY {
            file.sync_data()
                .map_err(StateError::io(format!("syncing {}", self.path.display())))?;
            *since_sync = 0;
            *last_sync = Instant::now();
        }
        Ok(())
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if let Ok(guard) = self.file.lock() {
            let _ = guard.0.sync_data();
        }
    }
}

impl StateStore for LocalStore {
    fn read_latest(&self) -> Result<Option<Snapshot>, StateError> {
        let latest = self.latest_on_disk()?;
        match self.journal_ops(latest.as_ref())? {
            Some((folded, _)) => Ok(Some(folded)),
            None => Ok(latest),
        }
    }

    fn read_serial(&self, serial: u64) -> Result<Snapshot, StateError> {
        self.read_file(serial)
    }

    fn write(
        &self,
        snapshot: &Snapshot,
        operation: &str,
        changes: ChangeCounts,
    ) -> Result<(), StateError> {
        self.ensure_dirs()?;
        let expected = self.serials()?.last().map(|s| s + 1).unwrap_or(1);
        if snapshot.serial != expected {
            return Err(StateError::Corrupt {
                path: self.dir.display().to_string(),
                message: format!(
                    "refusing to write serial {} where the next serial is {expected}: another process changed the state",
                    snapshot.serial
                ),
            });
        }
        let bytes = format::encode_snapshot(snapshot, operation, changes, self.cipher_for(true)?)?;
        let path = self.snapshot_path(snapshot.serial);
        if !create_exclusive(&path, &bytes)? {
            return Err(StateError::Corrupt {
                path: path.display().to_string(),
                message: "this serial was written by another process meanwhile".into(),
            });
        }
        self.discard_journal()
    }

    fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        let mut out = Vec::new();
        for serial in self.serials()? {
            let path = self.snapshot_path(serial);
            let bytes =
                fs::read(&path).map_err(StateError::io(format!("reading {}", path.display())))?;
            let h: StoredHeader =
                serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
            out.push(HistoryEntry {
                serial: h.serial,
                written_at: h.written_at,
                omniform_version: h.omniform_version,
                operation: h.operation,
                changes: h.changes,
                resources: h.resources.len(),
            });
        }
        Ok(out)
    }

    fn lock(
        &self,
        operation: &str,
        timeout: Duration,
        waiting: &mut dyn FnMut(&LockInfo),
    ) -> Result<LockGuard, StateError> {
        fs::create_dir_all(&self.dir)
            .map_err(StateError::io(format!("creating {}", self.dir.display())))?;
        let info = LockInfo::new(operation);
        let bytes = serde_json::to_vec_pretty(&info).expect("lock info serializes");
        let path = self.lock_path();
        let deadline = Instant::now() + timeout;
        let mut told = false;
        loop {
            if create_exclusive(&path, &bytes)? {
                return Ok(LockGuard { path, info });
            }
            let holder = fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str::<LockInfo>(&t).ok());
            match holder {
                // Released between our attempt and the read: try again at once.
                None => continue,
                Some(holder) => {
                    let stale = holder.is_stale();
                    if Instant::now() >= deadline || stale {
                        return Err(StateError::Locked {
                            holder: Box::new(holder),
                            stale,
                        });
                    }
                    if !told {
                        waiting(&holder);
                        told = true;
                    }
                }
            }
            std::thread::sleep(LOCK_POLL.min(deadline.saturating_duration_since(Instant::now())));
        }
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let path = self.lock_path();
        let holder = fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<LockInfo>(&t).ok());
        match holder {
            Some(h) if h.id == id => {
                fs::remove_file(&path)
                    .map_err(StateError::io(format!("removing {}", path.display())))?;
                sync_dir(&self.dir)?;
                Ok(h)
            }
            _ => Err(StateError::NotLocked { id: id.to_string() }),
        }
    }

    fn begin_journal(&self, base: &Snapshot) -> Result<Box<dyn Recorder>, StateError> {
        self.ensure_dirs()?;
        let cipher = self.cipher_for(true)?.clone();
        let path = self.journal_path();
        let begin = JournalLine::Begin {
            stack: self.stack.clone(),
            lineage: base.lineage.clone(),
            base_serial: base.serial,
            key_check: cipher.key_check()?,
            started_at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
        };
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(StateError::io(format!("creating {}", path.display())))?;
        let mut line = serde_json::to_vec(&begin).expect("journal lines serialize");
        line.push(b'\n');
        file.write_all(&line)
            .and_then(|_| file.sync_all())
            .map_err(StateError::io(format!("writing {}", path.display())))?;
        sync_dir(&self.dir)?;
        Ok(Box::new(Journal {
            file: Mutex::new((file, 0, Instant::now())),
            cipher,
            path,
        }))
    }

    fn cipher(&self) -> Result<Cipher, StateError> {
        self.cipher_for(true).cloned()
    }

    fn discard_journal(&self) -> Result<(), StateError> {
        match fs::remove_file(self.journal_path()) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StateError::Io {
                context: "removing the journal".into(),
                source: e,
            }),
        }
    }

    fn take_notice(&self) -> Option<String> {
        self.notice.lock().expect("notice lock").take()
    }

    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn recover(&self) -> Result<usize, StateError> {
        let latest = self.latest_on_disk()?;
        let Some((mut folded, ops)) = self.journal_ops(latest.as_ref())? else {
            // A journal that does not apply is left from a finished write.
            let _ = fs::remove_file(self.journal_path());
            return Ok(0);
        };
        let base = latest.unwrap_or_else(|| {
            let mut s = Snapshot::empty(&folded.stack);
            s.lineage = folded.lineage.clone();
            s
        });
        folded.serial = base.serial + 1;
        folded.written_at = OffsetDateTime::now_utc();
        folded.omniform_version = env!("CARGO_PKG_VERSION").to_string();
        let changes = folded.changes_since(&base);
        self.write(&folded, "recovered", changes)?;
        Ok(ops.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::ResourceInstance;
    use omniform_core::Value;

    fn instance(v: &str) -> ResourceInstance {
        ResourceInstance {
            provider: "builtin".into(),
            schema_version: 0,
            attributes: Value::map([
                ("input", Value::from(v)),
                ("secret", Value::from("hunter2").sensitive()),
            ]),
            dependencies: vec![],
            create_before_destroy: false,
            prevent_destroy: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            tainted: false,
        }
    }

    fn next(prev: Option<&Snapshot>) -> Snapshot {
        let mut s = prev.cloned().unwrap_or_else(|| Snapshot::empty("demo"));
        s.ensure_lineage();
        s.serial += 1;
        s
    }

    #[test]
    fn writes_immutable_serials_and_lists_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path(), "demo", None).unwrap();
        assert!(store.read_latest().unwrap().is_none());
        let mut s1 = next(None);
        s1.resources
            .insert("omniform_data.a".parse().unwrap(), instance("a"));
        store
            .write(
                &s1,
                "apply",
                ChangeCounts {
                    added: 1,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(
            store
                .take_notice()
                .unwrap()
                .contains("created a new state encryption key")
        );
        assert!(store.take_notice().is_none(), "said once");
        let mut s2 = next(Some(&s1));
        s2.resources.clear();
        store
            .write(
                &s2,
                "destroy",
                ChangeCounts {
                    destroyed: 1,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(
            store.write(&s2, "again", ChangeCounts::default()).is_err(),
            "a serial is written once"
        );
        let h = store.history().unwrap();
        assert_eq!(
            h.iter()
                .map(|e| (e.serial, e.operation.as_str(), e.resources))
                .collect::<Vec<_>>(),
            vec![(1, "apply", 1), (2, "destroy", 0)]
        );
        assert_eq!(store.read_serial(1).unwrap(), s1);
        assert_eq!(store.read_latest().unwrap().unwrap(), s2);
        let key = fs::metadata(dir.path().join("state.key")).unwrap();
        assert!(
            fs::read_to_string(dir.path().join(".gitignore"))
                .unwrap()
                .contains("state.key")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(key.permissions().mode() & 0o777, 0o600);
        }
        for entry in fs::read_dir(dir.path().join("snapshots")).unwrap() {
            let text = fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(!text.contains("hunter2"));
        }
    }

    #[test]
    fn a_journal_left_behind_is_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path(), "demo", None).unwrap();
        let s1 = next(None);
        store.write(&s1, "apply", ChangeCounts::default()).unwrap();
        {
            let j = store.begin_journal(&s1).unwrap();
            j.record(&StateOp::Put {
                address: "omniform_data.a".parse().unwrap(),
                instance: instance("a"),
            })
            .unwrap();
            j.record(&StateOp::Put {
                address: "omniform_data.b".parse().unwrap(),
                instance: instance("b"),
            })
            .unwrap();
            j.record(&StateOp::Remove {
                address: "omniform_data.b".parse().unwrap(),
            })
            .unwrap();
            // Two create-before-destroy replacements of a; the first old object is deleted.
            for (key, old, new) in [("0000000a", "a", "a2"), ("0000000b", "a2", "a3")] {
                j.record(&StateOp::Depose {
                    old: crate::DeposedObject {
                        address: "omniform_data.a".parse().unwrap(),
                        key: key.into(),
                        instance: instance(old),
                    },
                    replacement: instance(new),
                })
                .unwrap();
            }
            j.record(&StateOp::DropDeposed {
                address: "omniform_data.a".parse().unwrap(),
                key: "0000000a".into(),
            })
            .unwrap();
        }
        // A torn last line, as a process killed mid-write leaves.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("journal.jsonl"))
            .unwrap();
        f.write_all(b"{\"kind\":\"put\",\"instan").unwrap();
        let seen = store.read_latest().unwrap().unwrap();
        assert_eq!(seen.resources.len(), 1);
        assert_eq!(seen.serial, 1, "reading does not write");
        let text = fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
        assert!(!text.contains("hunter2"), "the journal seals secrets too");
        assert_eq!(store.recover().unwrap(), 6);
        let recovered = store.read_latest().unwrap().unwrap();
        assert_eq!(recovered.serial, 2);
        assert_eq!(recovered.resources.len(), 1);
        let a = &recovered.resources[&"omniform_data.a".parse().unwrap()];
        assert_eq!(
            a.attributes.get_path(&"input".parse().unwrap()),
            Some(&Value::from("a3"))
        );
        assert_eq!(
            recovered.deposed.len(),
            1,
            "the old object still to delete is kept"
        );
        assert_eq!(recovered.deposed[0].key, "0000000b");
        assert_eq!(recovered.deposed[0].instance, instance("a2"));
        assert!(!dir.path().join("journal.jsonl").exists());
        assert_eq!(
            store.history().unwrap().last().unwrap().operation,
            "recovered"
        );
        assert_eq!(store.recover().unwrap(), 0);
    }

    #[test]
    fn a_wrong_key_is_refused_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let key_a = "11".repeat(32);
        let store = LocalStore::open(dir.path(), "demo", Some(key_a)).unwrap();
        let mut s1 = next(None);
        s1.resources
            .insert("omniform_data.a".parse().unwrap(), instance("a"));
        store.write(&s1, "apply", ChangeCounts::default()).unwrap();
        assert!(
            !dir.path().join("state.key").exists(),
            "an environment key needs no file"
        );
        let before = fs::read(dir.path().join("snapshots/0000000001.json")).unwrap();
        let other = LocalStore::open(dir.path(), "demo", Some("22".repeat(32))).unwrap();
        let err = other.read_latest().unwrap_err();
        assert!(
            err.to_string()
                .contains("the key is wrong (OMNIFORM_STATE_KEY)"),
            "{err}"
        );
        assert_eq!(
            fs::read(dir.path().join("snapshots/0000000001.json")).unwrap(),
            before
        );
        let nokey = LocalStore::open(dir.path(), "demo", None).unwrap();
        assert!(
            nokey
                .read_latest()
                .unwrap_err()
                .to_string()
                .contains("is missing and OMNIFORM_STATE_KEY is not set")
        );
    }

    #[test]
    fn locks_exclude_report_and_wait() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path(), "demo", None).unwrap();
        let held = store.lock("apply", Duration::ZERO, &mut |_| {}).unwrap();
        match store.lock("plan", Duration::ZERO, &mut |_| {}) {
            Err(StateError::Locked { holder, stale }) => {
                assert_eq!(holder.id, held.info.id);
                assert_eq!(holder.operation, "apply");
                assert!(!stale);
            }
            other => panic!("expected a lock error, got {other:?}"),
        }
        // A waiter gets the lock once the holder lets go.
        let (tx, rx) = std::sync::mpsc::channel();
        let dir_path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let store = LocalStore::open(dir_path, "demo", None).unwrap();
            store
                .lock("plan", Duration::from_secs(30), &mut |holder| {
                    tx.send(holder.id.clone()).unwrap()
                })
                .map(|g| g.info.operation.clone())
        });
        assert_eq!(rx.recv().unwrap(), held.info.id);
        drop(held);
        assert_eq!(waiter.join().unwrap().unwrap(), "plan");
        assert!(!dir.path().join("lock.json").exists());
    }

    #[test]
    fn stale_locks_are_reported_and_can_be_forced() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path(), "demo", None).unwrap();
        let mut dead = LockInfo::new("apply");
        // A child that has exited and been reaped has a pid no process holds.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        dead.pid = child.id();
        child.wait().unwrap();
        fs::write(
            dir.path().join("lock.json"),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        match store.lock("plan", Duration::from_secs(30), &mut |_| {
            panic!("a stale lock is not waited for")
        }) {
            Err(StateError::Locked { stale, .. }) => assert!(stale),
            other => panic!("expected a stale lock, got {other:?}"),
        }
        assert!(matches!(
            store.force_unlock("wrong-id"),
            Err(StateError::NotLocked { .. })
        ));
        assert_eq!(store.force_unlock(&dead.id).unwrap().pid, dead.pid);
        store.lock("plan", Duration::ZERO, &mut |_| {}).unwrap();
    }
}
