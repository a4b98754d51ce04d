//! sipvm's RPC surface: the method registry (name, help, handler), JSON-RPC 2.0 over HTTP POST
//! (`server`), and the client with kamcmd's printer used by `sipvm cmd` (`client`, `print`).
//!
//! Like Kamailio, a module owns its RPC methods and registers them here; this crate only keeps
//! the table and carries requests. It depends on nothing else of sipvm's. See docs/rpc.md.

pub mod client;
pub mod print;
pub mod server;

pub mod pretty;
pub use serde_json::Value;
pub use server::{serve, ServerHandle, DEFAULT_ADDR};

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Kamailio's code for every method-level fault (bad or missing parameters included).
pub const INTERNAL: i64 = 500;
/// JSON-RPC 2.0: the body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC 2.0: JSON, but not a request object.
pub const INVALID_REQUEST: i64 = -32600;

/// A fault: `{"code": .., "message": ..}` on the wire, `error: CODE - message` in `sipvm cmd`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} - {message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// Code 500, what Kamailio's modules answer for every failure.
    pub fn internal(message: impl Into<String>) -> RpcError {
        RpcError::new(INTERNAL, message)
    }

    /// Kamailio's jsonrpcs answer to an unknown method.
    pub fn method_not_found() -> RpcError {
        RpcError::internal("Method Not Found")
    }

    pub fn parse_error() -> RpcError {
        RpcError::new(PARSE_ERROR, "Parse Error")
    }

    pub fn invalid_request(why: &str) -> RpcError {
        RpcError::new(INVALID_REQUEST, format!("Invalid Request: {why}"))
    }

    /// The `error` member of a response.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "code": self.code, "message": self.message })
    }
}

/// A method's positional parameters. An object's values are taken in order, as Kamailio does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(Vec<Value>);

impl Params {
    pub fn new(values: Vec<Value>) -> Params {
        Params(values)
    }

    /// From a request's `params` member: absent or null → none, array → its items, object → its
    /// values in order. Anything else is not a parameter list.
    pub fn from_json(params: Option<Value>) -> Result<Params, RpcError> {
        match params {
            None | Some(Value::Null) => Ok(Params(Vec::new())),
            Some(Value::Array(a)) => Ok(Params(a)),
            Some(Value::Object(o)) => Ok(Params(o.into_iter().map(|(_, v)| v).collect())),
            Some(_) => Err(RpcError::invalid_request(
                "params must be an array or an object",
            )),
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i)
    }

    pub fn values(&self) -> &[Value] {
        &self.0
    }

    fn required(&self, i: usize, name: &str) -> Result<&Value, RpcError> {
        match self.0.get(i) {
            Some(v) if !v.is_null() => Ok(v),
            _ => Err(RpcError::internal(format!("missing parameter '{name}'"))),
        }
    }

    /// Parameter `i` as a string; a number is taken as its decimal text (kamcmd sends `42` as
    /// an integer even where a string is meant).
    pub fn str(&self, i: usize, name: &str) -> Result<String, RpcError> {
        let v = self.required(i, name)?;
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(RpcError::internal(format!(
                "parameter '{name}' must be a string"
            ))),
        }
    }

    /// Parameter `i` as an integer; a string holding a decimal integer is accepted, anything
    /// else (`abc`, `1.5`, `true`) is an error.
    pub fn int(&self, i: usize, name: &str) -> Result<i64, RpcError> {
        let v = self.required(i, name)?;
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        n.ok_or_else(|| RpcError::internal(format!("parameter '{name}' must be an integer")))
    }

    /// Like `str`, but `None` when the parameter is absent or null.
    pub fn opt_str(&self, i: usize, name: &str) -> Result<Option<String>, RpcError> {
        match self.0.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(i, name).map(Some),
        }
    }

    /// Like `int`, but `None` when the parameter is absent or null.
    pub fn opt_int(&self, i: usize, name: &str) -> Result<Option<i64>, RpcError> {
        match self.0.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.int(i, name).map(Some),
        }
    }
}

/// A method's implementation.
pub type Handler = Arc<dyn Fn(Params) -> Result<Value, RpcError> + Send + Sync>;

struct Method {
    help: String,
    handler: Handler,
}

/// The method table. Methods may be registered at any time, also while serving; a name
/// registered twice keeps the last handler.
pub struct Registry {
    methods: RwLock<BTreeMap<String, Method>>,
    /// Replies formatted as jsonrpcs' `pretty_format=1` (Kamailio's default), else compact.
    pretty: std::sync::atomic::AtomicBool,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// A registry holding the built-ins `system.listMethods` and `system.methodHelp`.
    pub fn new() -> Registry {
        let r = Registry {
            methods: RwLock::new(BTreeMap::new()),
            pretty: std::sync::atomic::AtomicBool::new(true),
        };
        // The built-ins need the table itself; they get it through the call path instead.
        r.register(
            "system.listMethods",
            "Lists the names of all RPC methods.",
            Arc::new(|_| Ok(Value::Null)),
        );
        r.register(
            "system.methodHelp",
            "Prints the help text of the RPC method given as parameter.",
            Arc::new(|_| Ok(Value::Null)),
        );
        r
    }

    /// jsonrpcs' `pretty_format`: true (the default) formats replies as Kamailio does.
    pub fn set_pretty(&self, on: bool) {
        self.pretty.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// A reply as the HTTP transport sends it.
    pub fn format(&self, v: &Value) -> String {
        if self.pretty.load(std::sync::atomic::Ordering::Relaxed) {
            pretty::pretty(v)
        } else {
            v.to_string()
        }
    }

    pub fn register(&self, name: &str, help: &str, handler: Handler) {
        let mut m = self.methods.write().unwrap_or_else(|e| e.into_inner());
        m.insert(
            name.to_string(),
            Method {
                help: help.to_string(),
                handler,
            },
        );
    }

    /// `register` for a closure.
    pub fn method<F>(&self, name: &str, help: &str, f: F)
    where
        F: Fn(Params) -> Result<Value, RpcError> + Send + Sync + 'static,
    {
        self.register(name, help, Arc::new(f));
    }

    /// Every method name, sorted.
    pub fn names(&self) -> Vec<String> {
        let m = self.methods.read().unwrap_or_else(|e| e.into_inner());
        m.keys().cloned().collect()
    }

    pub fn help(&self, name: &str) -> Option<String> {
        let m = self.methods.read().unwrap_or_else(|e| e.into_inner());
        m.get(name).map(|m| m.help.clone())
    }

    /// Runs a method. A handler that panics answers 500 instead of taking the caller down.
    pub fn call(&self, name: &str, params: Params) -> Result<Value, RpcError> {
        match name {
            "system.listMethods" => return Ok(Value::from(self.names())),
            "system.methodHelp" => {
                let which = params.str(0, "method")?;
                return self
                    .help(&which)
                    .map(Value::from)
                    .ok_or_else(RpcError::method_not_found);
            }
            _ => {}
        }
        let handler = {
            let m = self.methods.read().unwrap_or_else(|e| e.into_inner());
            match m.get(name) {
                Some(m) => m.handler.clone(),
                None => return Err(RpcError::method_not_found()),
            }
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(params)))
            .unwrap_or_else(|_| Err(RpcError::internal("Internal Error")))
    }

    /// Answers one JSON-RPC request body (a request or a batch). `None` when nothing is to be
    /// sent back (only notifications).
    pub fn handle_body(&self, body: &[u8]) -> Option<Value> {
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return Some(response(Value::Null, Err(RpcError::parse_error()))),
        };
        match v {
            Value::Array(items) if items.is_empty() => Some(response(
                Value::Null,
                Err(RpcError::invalid_request("empty batch")),
            )),
            Value::Array(items) => {
                let out: Vec<Value> = items.into_iter().filter_map(|r| self.handle(r)).collect();
                (!out.is_empty()).then_some(Value::Array(out))
            }
            v => self.handle(v),
        }
    }

    /// Answers one request object; `None` for a notification (no `id`).
    pub fn handle(&self, req: Value) -> Option<Value> {
        let Value::Object(mut o) = req else {
            return Some(response(
                Value::Null,
                Err(RpcError::invalid_request("not an object")),
            ));
        };
        let id = o.remove("id");
        let method = match o.remove("method") {
            Some(Value::String(m)) => m,
            _ => {
                return Some(response(
                    id.unwrap_or(Value::Null),
                    Err(RpcError::invalid_request("no method")),
                ))
            }
        };
        let result = Params::from_json(o.remove("params")).and_then(|p| self.call(&method, p));
        id.map(|id| response(id, result))
    }
}

/// A JSON-RPC 2.0 response object.
pub fn response(id: Value, result: Result<Value, RpcError>) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("jsonrpc".into(), Value::from("2.0"));
    match result {
        Ok(v) => o.insert("result".into(), v),
        Err(e) => o.insert("error".into(), e.to_json()),
    };
    o.insert("id".into(), id);
    Value::Object(o)
}
