//! Optional persistence of usrloc tables to a local SQLite file. The SIP path never waits on
//! it: changes go down a channel to one writer thread that commits them in batches. At start
//! the file is read back, so bindings survive a restart.
//!
//! One SQL table per usrloc table, named after it, with Kamailio's usrloc column names; times
//! (`expires`, `last_modified`) are seconds since the epoch and q is in thousandths, so the
//! file is sipvm's own, not one Kamailio's db_sqlite could share.

use super::store::{Binding, Record};
use rusqlite::{params, Connection};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};

/// Where the database is: `sqlite:///abs/path.db` (or `sqlite://rel/path.db`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbConfig {
    pub path: PathBuf,
}

impl DbConfig {
    pub fn from_url(url: &str) -> Option<Self> {
        let p = url.trim().strip_prefix("sqlite://")?;
        (!p.is_empty()).then(|| DbConfig { path: p.into() })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("usrloc database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("usrloc database writer thread: {0}")]
    Thread(std::io::Error),
}

/// What the writer thread is told.
#[derive(Debug)]
pub enum Op {
    /// The AoR's bindings are now these (none: remove the AoR).
    Replace {
        table: String,
        aor: String,
        bindings: Vec<Binding>,
    },
    /// Answer once everything sent before is committed.
    Flush(Sender<()>),
}

/// The sending end of the writer thread's channel.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: Sender<Op>,
}

impl Writer {
    pub fn send(&self, op: Op) {
        if self.tx.send(op).is_err() {
            tracing::warn!("usrloc: database writer is gone; change kept in memory only");
        }
    }

    /// Waits (at most 10 s) until what was sent before is committed.
    pub fn flush(&self) {
        let (tx, rx) = channel();
        self.send(Op::Flush(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(10));
    }
}

/// `"location"` → `"location"` quoted as an SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

const COLUMNS: &str = "username, contact, expires, q, callid, cseq, received, path, \
    instance, reg_id, user_agent, socket, last_modified, flags, cflags, methods, ruid, source";

fn create(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {t} (username TEXT NOT NULL, contact TEXT NOT NULL, \
         expires INTEGER NOT NULL, q INTEGER NOT NULL, callid TEXT NOT NULL, \
         cseq INTEGER NOT NULL, received TEXT NOT NULL, path TEXT NOT NULL, \
         instance TEXT NOT NULL, reg_id INTEGER NOT NULL, user_agent TEXT NOT NULL, \
         socket TEXT NOT NULL, last_modified INTEGER NOT NULL, flags INTEGER NOT NULL, \
         cflags INTEGER NOT NULL, methods INTEGER NOT NULL, ruid TEXT NOT NULL, \
         source TEXT NOT NULL); \
         CREATE INDEX IF NOT EXISTS {i} ON {t} (username);",
        t = ident(table),
        i = ident(&format!("{table}_username_idx")),
    ))
}

/// Opens (creating if needed) the database, reads every stored record back, and starts the
/// writer thread.
pub fn open(cfg: &DbConfig) -> Result<(Writer, Vec<(String, Record)>), DbError> {
    let err = |source| DbError::Sqlite {
        path: cfg.path.display().to_string(),
        source,
    };
    let conn = Connection::open(&cfg.path).map_err(err)?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .map_err(err)?;
    let rows = load(&conn).map_err(err)?;
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("usrloc-db".into())
        .spawn(move || write_loop(conn, rx))
        .map_err(DbError::Thread)?;
    Ok((Writer { tx }, rows))
}

/// Every record of every usrloc table in the file.
fn load(conn: &Connection) -> rusqlite::Result<Vec<(String, Record)>> {
    let mut tables: Vec<String> = Vec::new();
    {
        let mut st = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%ruid TEXT%'",
        )?;
        let names = st.query_map([], |r| r.get::<_, String>(0))?;
        for n in names {
            tables.push(n?);
        }
    }
    let mut out: Vec<(String, Record)> = Vec::new();
    for t in tables {
        let mut st = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM {} ORDER BY username, rowid",
            ident(&t)
        ))?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Binding {
                    contact: r.get(1)?,
                    expires: r.get(2)?,
                    q: r.get(3)?,
                    callid: r.get(4)?,
                    cseq: r.get(5)?,
                    received: r.get(6)?,
                    path: r.get(7)?,
                    instance: r.get(8)?,
                    reg_id: r.get(9)?,
                    user_agent: r.get(10)?,
                    socket: r.get(11)?,
                    last_modified: r.get(12)?,
                    flags: r.get(13)?,
                    cflags: r.get(14)?,
                    methods: r.get(15)?,
                    ruid: r.get(16)?,
                    source: r.get(17)?,
                },
            ))
        })?;
        for row in rows {
            let (aor, b) = row?;
            match out.last_mut() {
                Some((tn, rec)) if *tn == t && rec.aor == aor => {
                    rec.bindings.push(b);
                }
                _ => {
                    let mut rec = Record::new(&aor);
                    rec.bindings.push(b);
                    out.push((t.clone(), rec));
                }
            }
        }
    }
    Ok(out)
}

/// Commits what arrives, one transaction per batch of whatever is queued.
fn write_loop(mut conn: Connection, rx: Receiver<Op>) {
    let mut created: Vec<String> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(op) = rx.try_recv() {
            batch.push(op);
            if batch.len() >= 4096 {
                break;
            }
        }
        let mut acks = Vec::new();
        if let Err(e) = apply(&mut conn, &mut created, batch, &mut acks) {
            tracing::error!("usrloc: database write failed: {e}");
        }
        for a in acks {
            let _ = a.send(());
        }
    }
}

fn apply(
    conn: &mut Connection,
    created: &mut Vec<String>,
    batch: Vec<Op>,
    acks: &mut Vec<Sender<()>>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for op in batch {
        match op {
            Op::Flush(a) => acks.push(a),
            Op::Replace {
                table,
                aor,
                bindings,
            } => {
                if !created.contains(&table) {
                    create(&tx, &table)?;
                    created.push(table.clone());
                }
                let t = ident(&table);
                tx.prepare_cached(&format!("DELETE FROM {t} WHERE username = ?1"))?
                    .execute([&aor])?;
                let mut ins = tx.prepare_cached(&format!(
                    "INSERT INTO {t} ({COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
                ))?;
                for b in &bindings {
                    ins.execute(params![
                        aor,
                        b.contact,
                        b.expires,
                        b.q,
                        b.callid,
                        b.cseq,
                        b.received,
                        b.path,
                        b.instance,
                        b.reg_id,
                        b.user_agent,
                        b.socket,
                        b.last_modified,
                        b.flags,
                        b.cflags,
                        b.methods,
                        b.ruid,
                        b.source,
                    ])?;
                }
            }
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        assert_eq!(
            DbConfig::from_url("sqlite:///var/lib/ul.db"),
            Some(DbConfig {
                path: "/var/lib/ul.db".into()
            })
        );
        assert_eq!(DbConfig::from_url("mysql://u:p@h/db"), None);
        assert_eq!(DbConfig::from_url("sqlite://"), None);
    }

    #[test]
    fn written_records_load_back() {
        let dir = std::env::temp_dir().join(format!("sipvm-ul-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let cfg = DbConfig {
            path: dir.join("ul.db"),
        };
        let _ = std::fs::remove_file(&cfg.path);
        let (w, rows) = open(&cfg).unwrap();
        assert!(rows.is_empty());
        let mut b =
            crate::modules::usrloc::store::tests_support::binding("sip:a@127.0.0.1", 500, 1000);
        b.path = "<sip:p;lr>".into();
        let b2 = crate::modules::usrloc::store::tests_support::binding("sip:b@127.0.0.1", -1, 0);
        for aor in ["alice", "bob"] {
            w.send(Op::Replace {
                table: "location".into(),
                aor: aor.into(),
                bindings: vec![b.clone(), b2.clone()],
            });
        }
        w.send(Op::Replace {
            table: "location".into(),
            aor: "bob".into(),
            bindings: vec![],
        });
        w.flush();
        let (_w2, rows) = open(&cfg).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "location");
        assert_eq!(rows[0].1.aor, "alice");
        assert_eq!(rows[0].1.bindings, vec![b, b2]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
