//! The queues: named, shared by every worker, each behind its own lock and bounded. Definitions
//! come from `modparam("mqueue", "mqueue", "name=q;size=N;addmode=M")` (and the older
//! `mqueue_name`/`mqueue_size`/`mqueue_addmode` trio); a reload may add queues, never removes
//! one (Kamailio cannot reload at all, so its queues live as long as the process).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

/// The cap of a queue defined without a size (Kamailio's 0: unbounded). A script can fill a
/// queue from network input, so sipvm bounds every queue; the oldest item goes first, as it
/// does for a queue at its own size.
pub const MAX_ITEMS: usize = 100_000;

/// How `mq_add` treats a key already queued (Kamailio's `addmode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddMode {
    /// 0: always append.
    Append,
    /// 1: keep the oldest item of the key, drop the new one.
    KeepOldest,
    /// 2: drop the queued item of the key, append the new one.
    KeepNewest,
}

/// One queue's definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Def {
    pub name: String,
    /// Kamailio's `size`: 0 or less is unbounded there, [`MAX_ITEMS`] here.
    pub size: i64,
    pub addmode: AddMode,
}

impl Def {
    fn cap(&self) -> usize {
        match usize::try_from(self.size) {
            Ok(n) if n > 0 => n.min(MAX_ITEMS),
            _ => MAX_ITEMS,
        }
    }
}

/// A queue: items of (key, value) in arrival order.
pub struct Queue {
    pub def: Def,
    items: Mutex<VecDeque<(String, String)>>,
}

impl Queue {
    pub fn new(def: Def) -> Queue {
        Queue {
            def,
            items: Mutex::new(VecDeque::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<(String, String)>> {
        // A panic elsewhere leaves the items consistent (each change is one call).
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `mq_add`: appends (as the add mode says), then drops the oldest past the size.
    pub fn add(&self, key: &str, val: &str) {
        let mut q = self.lock();
        match self.def.addmode {
            AddMode::Append => {}
            AddMode::KeepOldest => {
                if q.iter().any(|(k, _)| k == key) {
                    return;
                }
            }
            AddMode::KeepNewest => {
                if let Some(i) = q.iter().position(|(k, _)| k == key) {
                    q.remove(i);
                }
            }
        }
        q.push_back((key.to_string(), val.to_string()));
        while q.len() > self.def.cap() {
            q.pop_front();
        }
    }

    /// The oldest item, taken out.
    pub fn pop(&self) -> Option<(String, String)> {
        self.lock().pop_front()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every queue, in definition order, and the snapshot generation their definitions come from.
pub struct Queues {
    list: RwLock<Vec<Arc<Queue>>>,
    generation: AtomicU64,
}

impl Queues {
    pub fn new(defs: Vec<Def>, generation: u64) -> Queues {
        Queues {
            list: RwLock::new(defs.into_iter().map(|d| Arc::new(Queue::new(d))).collect()),
            generation: AtomicU64::new(generation),
        }
    }

    /// Adds the queues a newer snapshot defines (one atomic load when nothing changed).
    pub fn sync(&self, snap: &sipvm_cfg::Snapshot) {
        if self.generation.load(Ordering::Acquire) >= snap.generation {
            return;
        }
        let mut list = self.list.write().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) >= snap.generation {
            return;
        }
        if let Ok(defs) = defs(&snap.modparams) {
            for d in defs {
                if !list.iter().any(|q| q.def.name == d.name) {
                    list.push(Arc::new(Queue::new(d)));
                }
            }
        }
        self.generation.store(snap.generation, Ordering::Release);
    }

    pub fn get(&self, name: &str) -> Option<Arc<Queue>> {
        self.list
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|q| q.def.name == name)
            .cloned()
    }

    pub fn all(&self) -> Vec<Arc<Queue>> {
        self.list
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The queue definitions of a file's `modparam`s, in order; an error names what sipvm refuses.
pub fn defs(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<Vec<Def>, String> {
    let mut out: Vec<Def> = Vec::new();
    // `mqueue_name` takes the size and add mode set before it (Kamailio reads them as the
    // modparam lines come).
    let (mut size, mut addmode) = (0i64, AddMode::Append);
    for p in m.iter().filter(|p| p.module == "mqueue") {
        let def = match p.param.as_str() {
            "mqueue" => parse_def(&p.value.to_str())?,
            "mqueue_name" => Def {
                name: p.value.to_str().into_owned(),
                size,
                addmode,
            },
            "mqueue_size" => {
                size = int_of(&p.value.to_str(), "mqueue_size")?;
                continue;
            }
            "mqueue_addmode" => {
                addmode = addmode_of(int_of(&p.value.to_str(), "mqueue_addmode")?)?;
                continue;
            }
            _ => continue,
        };
        if def.name.is_empty() {
            return Err("mqueue name not defined".into());
        }
        if out.iter().any(|d| d.name == def.name) {
            return Err(format!("mqueue redefined: {}", def.name));
        }
        out.push(def);
    }
    Ok(out)
}

fn int_of(s: &str, what: &str) -> Result<i64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{what}: \"{s}\" is not an integer"))
}

fn addmode_of(n: i64) -> Result<AddMode, String> {
    match n {
        0 => Ok(AddMode::Append),
        1 => Ok(AddMode::KeepOldest),
        2 => Ok(AddMode::KeepNewest),
        // Kamailio treats any other value as 0; sipvm says so instead of guessing.
        _ => Err(format!("addmode {n}: must be 0, 1 or 2")),
    }
}

/// `name=q;size=N;addmode=M;dbmode=D` (names without case; a trailing `;` allowed).
pub fn parse_def(spec: &str) -> Result<Def, String> {
    let mut def = Def {
        name: String::new(),
        size: 0,
        addmode: AddMode::Append,
    };
    let spec = spec.trim().strip_suffix(';').unwrap_or(spec.trim());
    for part in spec.split(';') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let (k, v) = (k.trim(), v.trim());
        match k.to_ascii_lowercase().as_str() {
            "name" => def.name = v.to_string(),
            "size" => def.size = int_of(v, "size")?,
            "addmode" => def.addmode = addmode_of(int_of(v, "addmode")?)?,
            // Queues kept in a database are the database issue's; 0 is "none".
            "dbmode" if int_of(v, "dbmode")? == 0 => {}
            "dbmode" => {
                return Err(format!(
                    "dbmode {v}: database-backed queues are not implemented by sipvm yet"
                ))
            }
            _ => return Err(format!("unknown param: {k}")),
        }
    }
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(size: i64, addmode: AddMode) -> Queue {
        Queue::new(Def {
            name: "q".into(),
            size,
            addmode,
        })
    }

    #[test]
    fn a_full_queue_drops_its_oldest() {
        let q = q(2, AddMode::Append);
        for k in ["a", "b", "c"] {
            q.add(k, "v");
        }
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop().unwrap().0, "b");
        assert_eq!(q.pop().unwrap().0, "c");
        assert!(q.pop().is_none());
    }

    #[test]
    fn an_unsized_queue_is_still_bounded() {
        let q = q(0, AddMode::Append);
        for i in 0..MAX_ITEMS + 5 {
            q.add(&i.to_string(), "");
        }
        assert_eq!(q.len(), MAX_ITEMS);
        assert_eq!(q.pop().unwrap().0, "5");
    }

    #[test]
    fn add_modes() {
        let q1 = q(10, AddMode::KeepOldest);
        q1.add("k", "1");
        q1.add("x", "0");
        q1.add("k", "2");
        assert_eq!(q1.pop(), Some(("k".into(), "1".into())));
        assert_eq!(q1.len(), 1);
        let q2 = q(10, AddMode::KeepNewest);
        q2.add("k", "1");
        q2.add("x", "0");
        q2.add("k", "2");
        assert_eq!(q2.pop(), Some(("x".into(), "0".into())));
        assert_eq!(q2.pop(), Some(("k".into(), "2".into())));
    }

    #[test]
    fn definitions() {
        let d = parse_def("name=q1;size=5;addmode=2;").unwrap();
        assert_eq!(
            (d.name.as_str(), d.size, d.addmode),
            ("q1", 5, AddMode::KeepNewest)
        );
        assert_eq!(parse_def("NAME=x").unwrap().name, "x");
        assert!(parse_def("name=x;colour=red").is_err());
        assert!(parse_def("name=x;dbmode=1").is_err());
        assert!(parse_def("name=x;dbmode=0").is_ok());
        assert!(parse_def("name=x;size=big").is_err());
    }
}
