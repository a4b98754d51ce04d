//! htable's shared hash tables: every table of every definition, held in `Shared` so tables
//! and their contents outlive messages and reloads (docs/modules/htable.md).
//!
//! A reload keeps each running table as it is (its definition and content), adds the tables
//! the new file defines for the first time, and never removes one. A definition the reload
//! changes or cannot parse is logged and ignored; only a restart applies it.

use super::{def, store};
use super::{load_file, save_file, DefError, StoreError, Table, TableDef};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Every table, in definition order.
#[derive(Debug, Default)]
pub struct Htables {
    tables: RwLock<Vec<Arc<Table>>>,
    /// The newest snapshot generation whose definitions were applied.
    seen: AtomicU64,
    /// `modparam("htable", "db_url", ...)` of the first snapshot: where `htable.reload` and
    /// `htable.store` find a table's file (`text:///folder`, one file per `dbtable`).
    db_url: RwLock<String>,
}

/// Checks a configuration's definitions (a malformed or duplicate one fails `sipvm run` and
/// `sipvm check`).
pub fn check(modparams: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), DefError> {
    def::definitions(modparams).map(|_| ())
}

impl Htables {
    /// The tables of the first snapshot, loaded from their file store when one is configured,
    /// and the expiry sweeper (every `timer_interval` seconds, default 20) when the module is
    /// loaded.
    /// A table whose store cannot be read stops start-up, as Kamailio refuses to start when
    /// it cannot load one.
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Result<Arc<Htables>, String> {
        let ht = Arc::new(Htables::default());
        if let Some(v) = snap.modparam("htable", "db_url") {
            *ht.db_url.write().unwrap_or_else(PoisonError::into_inner) = v.to_str().into_owned();
        }
        ht.sync(snap);
        let loaded = snap.modules.iter().any(|m| m == "htable");
        for t in ht
            .all()
            .iter()
            .filter(|t| loaded && !t.def.dbtable.is_empty())
        {
            if ht.file_store().is_none() {
                return Err(format!(
                    "htable {}: dbtable needs db_url \"text:///DIR\" (sipvm reads no other store yet), not \"{}\"",
                    t.name(),
                    ht.db_url()
                ));
            }
            ht.reload(t)
                .map_err(|e| format!("htable {}: cannot load its store: {e}", t.name()))?;
        }
        if snap.modules.iter().any(|m| m == "htable") {
            let secs = snap.modparam_int("htable", "timer_interval", 20);
            start_sweeper(&ht, Duration::from_secs(secs.clamp(1, 3600) as u64));
        }
        Ok(ht)
    }

    /// Applies the definitions of `snap` when it is newer than any seen: new tables are added,
    /// existing ones kept (a changed definition is only warned about).
    pub fn sync(&self, snap: &sipvm_cfg::Snapshot) {
        if snap.generation <= self.seen.load(Ordering::Acquire) {
            return;
        }
        let has_store = self.file_store().is_some();
        let mut tables = self.tables.write().unwrap_or_else(PoisonError::into_inner);
        if snap.generation <= self.seen.load(Ordering::Acquire) {
            return;
        }
        self.seen.store(snap.generation, Ordering::Release);
        for m in snap.modparams.iter() {
            if m.module != "htable" || m.param != "htable" {
                continue;
            }
            let def = match TableDef::parse(&m.value.to_str()) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!("{e}; ignored");
                    continue;
                }
            };
            match tables.iter().find(|t| t.def.name == def.name) {
                Some(t) if t.def != def => tracing::warn!(
                    "htable {}: definition changed; the running table is kept (restart to apply)",
                    def.name
                ),
                Some(_) => {}
                None => {
                    let ignored = def.ignored_keys(has_store);
                    if !ignored.is_empty() {
                        tracing::warn!(
                            "htable {}: {} accepted but ignored (no database or DMQ in sipvm)",
                            def.name,
                            ignored.join(", ")
                        );
                    }
                    if generation_after_start(snap) {
                        tracing::info!("htable {}: new table added by a reload", def.name);
                    }
                    tables.push(Arc::new(Table::new(def)));
                }
            }
        }
    }

    /// The table named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Table>> {
        let tables = self.tables.read().unwrap_or_else(PoisonError::into_inner);
        tables.iter().find(|t| t.def.name == name).cloned()
    }

    /// Every table, in definition order.
    pub fn all(&self) -> Vec<Arc<Table>> {
        self.tables
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The folder of a `text://` `db_url`, if that is how the store is configured.
    pub fn file_store(&self) -> Option<std::path::PathBuf> {
        let url = self.db_url.read().unwrap_or_else(PoisonError::into_inner);
        store::folder(&url)
    }

    pub fn db_url(&self) -> String {
        self.db_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces `t`'s content with its file (all or nothing); how many items were loaded.
    pub fn reload(&self, t: &Table) -> Result<usize, StoreError> {
        let dir = self.file_store().ok_or(StoreError::NoStore)?;
        let items = load_file(&dir.join(&t.def.dbtable), now())?;
        let n = items.len();
        t.replace(items);
        Ok(n)
    }

    /// Writes `t`'s live items to its file.
    pub fn store(&self, t: &Table) -> Result<usize, StoreError> {
        let dir = self.file_store().ok_or(StoreError::NoStore)?;
        save_file(&dir.join(&t.def.dbtable), t, now())
    }
}

fn generation_after_start(snap: &sipvm_cfg::Snapshot) -> bool {
    snap.generation > 1
}

/// Removes expired items of autoexpire tables every `every`, until the tables are dropped.
fn start_sweeper(ht: &Arc<Htables>, every: Duration) {
    let weak = Arc::downgrade(ht);
    let r = std::thread::Builder::new()
        .name("htable-timer".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            let Some(ht) = weak.upgrade() else {
                return;
            };
            let now = now();
            for t in ht.all().iter().filter(|t| t.def.autoexpire > 0) {
                let n = t.sweep(now);
                if n > 0 {
                    tracing::debug!("htable {}: {n} expired items removed", t.name());
                }
            }
        });
    if let Err(e) = r {
        tracing::warn!("htable: no expiry sweeper ({e}); expired items go when met");
    }
}
