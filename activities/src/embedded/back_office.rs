//! The demo back office on SQLite: customers, products and orders, idempotent writes.
//!
//! Two ways to fill it: [`SqliteBackOffice::demo`] generates a deterministic demo from a seed
//! (customers, some premium; products; orders in every status), and
//! [`SqliteBackOffice::load_tau_retail`] reads the τ-bench retail `db.json` shape at run time
//! (evaluation only; the file is never copied into the repository).
//!
//! Order ids are `W` followed by seven digits (`W1000042`), the τ-bench format without its `#`;
//! lookups accept either form. Item ids are ten digits. Operation ids are `OP-` and six digits.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::handlers::act::eligible;
use crate::payload::ProposalKind;
use crate::ports::{
    BackOffice, Customer, Order, OrderItem, Port, PortError, PortResult, Write, WriteResult,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, zip TEXT NOT NULL, plan TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (email);
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL, total REAL NOT NULL,
  items TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, seq);
CREATE TABLE IF NOT EXISTS operations (
  idempotency_key TEXT PRIMARY KEY, operation_id TEXT NOT NULL, kind TEXT NOT NULL,
  order_id TEXT NOT NULL, detail TEXT NOT NULL);
";

const ERR: fn(rusqlite::Error) -> PortError = |e| PortError::Unavailable {
    port: Port::BackOffice,
    message: e.to_string(),
};

fn rejected(message: String) -> PortError {
    PortError::Rejected {
        port: Port::BackOffice,
        message,
    }
}

/// A back office that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("parse {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] PortError),
}

/// The SQLite back office.
pub struct SqliteBackOffice {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteBackOffice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackOffice").finish_non_exhaustive()
    }
}

/// The canonical form of an order id (`#w1000042` → `W1000042`).
pub fn order_key(id: &str) -> String {
    id.trim().trim_start_matches('#').to_uppercase()
}

/// A small deterministic generator (SplitMix64), so the demo is the same for the same seed.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Li",
    "Marta", "Noah", "Olivia", "Pablo", "Qing", "Rosa", "Sven", "Tara", "Yusuf",
];
const LAST: &[&str] = &[
    "García", "Miller", "Dubois", "Schmidt", "Wang", "Rossi", "Novak", "Silva", "Kim", "Moreau",
    "Becker", "Chen", "López", "Smith",
];
const PRODUCTS: &[(&str, f64)] = &[
    ("Water Bottle", 24.9),
    ("Desk Lamp", 49.0),
    ("Running Shoes", 119.0),
    ("Backpack", 79.5),
    ("Coffee Maker", 189.0),
    ("Office Chair", 349.0),
    ("Bluetooth Speaker", 99.0),
    ("Yoga Mat", 35.0),
    ("Electric Kettle", 59.0),
    ("Laptop", 1299.0),
    ("Smart Watch", 399.0),
    ("T-Shirt", 19.9),
];
const STATUSES: &[&str] = &["pending", "processed", "delivered", "cancelled", "returned"];

/// Demo data sizes.
const CUSTOMERS: usize = 40;
const ORDERS: usize = 160;

impl SqliteBackOffice {
    /// An empty back office in memory.
    pub fn in_memory() -> PortResult<SqliteBackOffice> {
        SqliteBackOffice::with(Connection::open_in_memory().map_err(ERR)?)
    }

    /// A back office in a file.
    pub fn open(path: &Path) -> PortResult<SqliteBackOffice> {
        let conn = Connection::open(path).map_err(ERR)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(ERR)?;
        SqliteBackOffice::with(conn)
    }

    fn with(conn: Connection) -> PortResult<SqliteBackOffice> {
        conn.execute_batch(SCHEMA).map_err(ERR)?;
        Ok(SqliteBackOffice {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> PortResult<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| PortError::Unavailable {
            port: Port::BackOffice,
            message: "the back office's lock is poisoned".into(),
        })
    }

    /// An in-memory back office with the demo data of `seed`: customers `C0001`… (every fifth is
    /// premium; e-mails `first.last.N@example.com`; zip codes of five digits), the products above,
    /// and orders `W1000001`… in every status, newest last.
    pub fn demo(seed: u64) -> PortResult<SqliteBackOffice> {
        let bo = SqliteBackOffice::in_memory()?;
        bo.fill_demo(seed)?;
        Ok(bo)
    }

    /// Adds the demo data of `seed`.
    pub fn fill_demo(&self, seed: u64) -> PortResult<()> {
        let mut rng = Rng(seed);
        let mut c = self.conn()?;
        let tx = c.transaction().map_err(ERR)?;
        for (i, (name, price)) in PRODUCTS.iter().enumerate() {
            tx.execute(
                "INSERT OR REPLACE INTO products (id, name, price) VALUES (?1, ?2, ?3)",
                params![format!("P{:03}", i + 1), name, price],
            )
            .map_err(ERR)?;
        }
        for n in 1..=CUSTOMERS {
            let first = FIRST[rng.below(FIRST.len())];
            let last = LAST[rng.below(LAST.len())];
            let zip = format!("{:05}", 10000 + rng.below(89999));
            let email = format!(
                "{}.{}.{n}@example.com",
                ascii_lower(first),
                ascii_lower(last)
            );
            let plan = if n % 5 == 0 { "premium" } else { "standard" };
            tx.execute(
                "INSERT OR REPLACE INTO customers (id, name, email, zip, plan) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![format!("C{n:04}"), format!("{first} {last}"), email, zip, plan],
            )
            .map_err(ERR)?;
        }
        for n in 1..=ORDERS {
            // Every customer gets four orders, each in another status.
            let customer = 1 + (n - 1) % CUSTOMERS;
            let status = STATUSES[(customer - 1 + (n - 1) / CUSTOMERS) % STATUSES.len()];
            let lines = 1 + rng.below(3);
            let mut items = Vec::new();
            for l in 0..lines {
                let (name, price) = PRODUCTS[rng.below(PRODUCTS.len())];
                items.push(OrderItem {
                    id: format!("{:010}", 1_000_000_000 + n * 10 + l),
                    name: name.to_owned(),
                    price,
                });
            }
            insert_order(
                &tx,
                &format!("W{}", 1_000_000 + n),
                &format!("C{customer:04}"),
                status,
                &items,
                n,
            )?;
        }
        tx.commit().map_err(ERR)?;
        Ok(())
    }

    /// A back office with the τ-bench retail database (`users`, `orders`, `products`).
    pub fn load_tau_retail(path: &Path) -> Result<SqliteBackOffice, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let parse = |message: String| LoadError::Parse {
            path: path.display().to_string(),
            message,
        };
        let db: Value = serde_json::from_str(&text).map_err(|e| parse(e.to_string()))?;
        let bo = SqliteBackOffice::in_memory()?;
        {
            let mut c = bo.conn()?;
            let tx = c.transaction().map_err(ERR)?;
            let users = db
                .get("users")
                .and_then(Value::as_object)
                .ok_or_else(|| parse("no users object".into()))?;
            for (id, u) in users {
                let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
                let name = format!(
                    "{} {}",
                    s(u.pointer("/name/first_name")),
                    s(u.pointer("/name/last_name"))
                );
                tx.execute(
                    "INSERT OR REPLACE INTO customers (id, name, email, zip, plan) VALUES (?1, ?2, ?3, ?4, 'standard')",
                    params![id, name, s(u.get("email")).to_lowercase(), s(u.pointer("/address/zip"))],
                )
                .map_err(ERR)?;
            }
            let orders = db
                .get("orders")
                .and_then(Value::as_object)
                .ok_or_else(|| parse("no orders object".into()))?;
            for (seq, (id, o)) in orders.iter().enumerate() {
                let items: Vec<OrderItem> = o
                    .get("items")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .map(|i| OrderItem {
                                id: i
                                    .get("item_id")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_owned(),
                                name: i
                                    .get("name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_owned(),
                                price: i.get("price").and_then(Value::as_f64).unwrap_or(0.0),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let customer = o.get("user_id").and_then(Value::as_str).unwrap_or("");
                let status = o.get("status").and_then(Value::as_str).unwrap_or("");
                insert_order(&tx, &order_key(id), customer, status, &items, seq + 1)?;
            }
            tx.commit().map_err(ERR)?;
        }
        Ok(bo)
    }

    /// How many writes were performed (not counting replays).
    pub fn operations(&self) -> PortResult<u64> {
        let n: i64 = self
            .conn()?
            .query_row("SELECT COUNT(*) FROM operations", [], |r| r.get(0))
            .map_err(ERR)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many customers there are.
    pub fn customers(&self) -> PortResult<u64> {
        let c = self.conn()?;
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0))
            .map_err(ERR)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A customer's id by plan (tests and demos pick a premium or standard customer).
    pub fn some_customer(&self, plan: &str) -> PortResult<Option<Customer>> {
        let c = self.conn()?;
        c.query_row(
            "SELECT id, name, email, zip, plan FROM customers WHERE plan = ?1 ORDER BY id LIMIT 1",
            [plan],
            customer_row,
        )
        .optional()
        .map_err(ERR)
    }
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' => 'e',
            'á' => 'a',
            'ó' => 'o',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

fn insert_order(
    tx: &Connection,
    id: &str,
    customer: &str,
    status: &str,
    items: &[OrderItem],
    seq: usize,
) -> PortResult<()> {
    let total: f64 = items.iter().map(|i| i.price).sum();
    let items = serde_json::to_string(items).map_err(|e| rejected(e.to_string()))?;
    tx.execute(
        "INSERT OR REPLACE INTO orders (id, customer_id, status, total, items, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, customer, status, (total * 100.0).round() / 100.0, items, i64::try_from(seq).unwrap_or(0)],
    )
    .map_err(ERR)?;
    Ok(())
}

fn customer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        zip: r.get(3)?,
        plan: r.get(4)?,
    })
}

type OrderRow = (String, String, String, f64, String);

fn order_of((id, customer_id, status, total, items): OrderRow) -> PortResult<Order> {
    Ok(Order {
        id,
        customer_id,
        status,
        total,
        items: serde_json::from_str(&items).map_err(|e| PortError::Unavailable {
            port: Port::BackOffice,
            message: format!("stored items: {e}"),
        })?,
    })
}

fn order_cols(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn kind_str(kind: ProposalKind) -> &'static str {
    match kind {
        ProposalKind::Cancel => "cancel",
        ProposalKind::ChangeAddress => "change_address",
        ProposalKind::ModifyItems => "modify_items",
        ProposalKind::Return => "return",
        ProposalKind::Exchange => "exchange",
        ProposalKind::Refund => "refund",
    }
}

#[async_trait]
impl BackOffice for SqliteBackOffice {
    async fn find_customer_by_email(&self, email: &str) -> PortResult<Option<Customer>> {
        self.conn()?
            .query_row(
                "SELECT id, name, email, zip, plan FROM customers WHERE email = ?1",
                [email.trim().to_lowercase()],
                customer_row,
            )
            .optional()
            .map_err(ERR)
    }

    async fn find_customer_by_name_zip(
        &self,
        name: &str,
        zip: &str,
    ) -> PortResult<Option<Customer>> {
        self.conn()?
            .query_row(
                "SELECT id, name, email, zip, plan FROM customers WHERE lower(name) = lower(?1) AND zip = ?2",
                params![name.trim(), zip.trim()],
                customer_row,
            )
            .optional()
            .map_err(ERR)
    }

    async fn customer(&self, id: &str) -> PortResult<Option<Customer>> {
        self.conn()?
            .query_row(
                "SELECT id, name, email, zip, plan FROM customers WHERE id = ?1",
                [id],
                customer_row,
            )
            .optional()
            .map_err(ERR)
    }

    async fn order(&self, id: &str) -> PortResult<Option<Order>> {
        let row = self
            .conn()?
            .query_row(
                "SELECT id, customer_id, status, total, items FROM orders WHERE id = ?1",
                [order_key(id)],
                order_cols,
            )
            .optional()
            .map_err(ERR)?;
        row.map(order_of).transpose()
    }

    async fn orders_of(&self, customer_id: &str) -> PortResult<Vec<Order>> {
        let c = self.conn()?;
        let mut stmt = c
            .prepare("SELECT id, customer_id, status, total, items FROM orders WHERE customer_id = ?1 ORDER BY seq DESC")
            .map_err(ERR)?;
        let rows = stmt.query_map([customer_id], order_cols).map_err(ERR)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(order_of(row.map_err(ERR)?)?);
        }
        Ok(out)
    }

    async fn write(&self, w: &Write) -> PortResult<WriteResult> {
        let mut c = self.conn()?;
        let tx = c.transaction().map_err(ERR)?;
        let done: Option<String> = tx
            .query_row(
                "SELECT operation_id FROM operations WHERE idempotency_key = ?1",
                [&w.idempotency_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(ERR)?;
        if let Some(operation_id) = done {
            return Ok(WriteResult {
                operation_id,
                replayed: true,
            });
        }
        let id = order_key(&w.order_id);
        let status: Option<String> = tx
            .query_row("SELECT status FROM orders WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(ERR)?;
        let Some(status) = status else {
            return Err(rejected(format!("no order {id}")));
        };
        if !eligible(w.kind, &status) {
            return Err(rejected(format!(
                "order {id} is {status}: {} is not possible",
                kind_str(w.kind)
            )));
        }
        let new_status = match w.kind {
            ProposalKind::Cancel => "cancelled",
            ProposalKind::Return => "return requested",
            ProposalKind::Exchange => "exchange requested",
            ProposalKind::Refund => "refunded",
            ProposalKind::ChangeAddress | ProposalKind::ModifyItems => status.as_str(),
        }
        .to_owned();
        tx.execute(
            "UPDATE orders SET status = ?2 WHERE id = ?1",
            params![id, new_status],
        )
        .map_err(ERR)?;
        let n: i64 = tx
            .query_row("SELECT COUNT(*) FROM operations", [], |r| r.get(0))
            .map_err(ERR)?;
        let operation_id = format!("OP-{:06}", n + 1);
        let detail = serde_json::json!({
            "itemIds": w.item_ids, "amount": w.amount, "details": w.details,
        })
        .to_string();
        tx.execute(
            "INSERT INTO operations (idempotency_key, operation_id, kind, order_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![w.idempotency_key, operation_id, kind_str(w.kind), id, detail],
        )
        .map_err(ERR)?;
        tx.commit().map_err(ERR)?;
        Ok(WriteResult {
            operation_id,
            replayed: false,
        })
    }
}
