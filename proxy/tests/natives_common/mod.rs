//! Test support for the native-function tests (`natives_*.rs`): a message, a `Ctx` around it
//! with an outbox, a snapshot holding only module parameters, and shared state; a native is
//! called by `module.name` through the same table the VM uses.

#![allow(dead_code)]

use bytes::Bytes;
use sipvm_cfg::Snapshot;
use sipvm_lang::compile::ModParamSetting;
use sipvm_proxy::host::{Ctx, Shared};
use sipvm_proxy::sip::Msg;
use sipvm_proxy::transport::{Local, Outbox, Proto};
use sipvm_vm::{ArgValue, Program, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub const SRC: &str = "192.0.2.7:5070";

/// Everything a `Ctx` borrows.
pub struct Env {
    pub msg: Msg,
    pub locals: Vec<Local>,
    pub out: Outbox,
    pub snap: Snapshot,
    pub shared: Shared,
}

/// A SIP message from text, `\n` line ends turned into CRLF.
pub fn msg(text: &str) -> Msg {
    let t = text.replace("\r\n", "\n").replace('\n', "\r\n");
    Msg::parse(Bytes::from(t)).expect("test message parses")
}

pub fn snapshot(modparams: &[(&str, &str, Value)]) -> Snapshot {
    let modparams: Vec<ModParamSetting> = modparams
        .iter()
        .map(|(m, p, v)| ModParamSetting {
            module: m.to_string(),
            param: p.to_string(),
            value: v.clone(),
        })
        .collect();
    Snapshot {
        generation: 1,
        file: Arc::from("test.cfg"),
        program: Arc::new(Program::default()),
        globals: Arc::from(Vec::new()),
        custom: Arc::from(Vec::new()),
        modparams: modparams.into(),
        modules: Arc::from(Vec::new()),
        warnings: Arc::from(""),
    }
}

impl Env {
    pub fn new(text: &str) -> Env {
        Env::with_params(text, &[])
    }

    pub fn with_params(text: &str, modparams: &[(&str, &str, Value)]) -> Env {
        Env::from_msg(msg(text), modparams)
    }

    pub fn from_msg(msg: Msg, modparams: &[(&str, &str, Value)]) -> Env {
        Env::with_program(msg, modparams, Program::default())
    }

    /// With a program whose tables (pseudo-variables...) the natives may read.
    pub fn with_program(msg: Msg, modparams: &[(&str, &str, Value)], program: Program) -> Env {
        let mut snap = snapshot(modparams);
        snap.program = Arc::new(program);
        let shared = sipvm_proxy::modules::shared(&snap).expect("module state");
        Env {
            msg,
            locals: vec![Local {
                index: 0,
                proto: Proto::Udp,
                addr: "127.0.0.1:5060".parse().unwrap(),
                advertise: None,
                name: None,
            }],
            out: Outbox::new(),
            snap,
            shared,
        }
    }

    pub fn ctx(&mut self) -> Ctx<'_> {
        let src: SocketAddr = SRC.parse().unwrap();
        Ctx::new(
            &self.msg,
            src,
            &self.locals[0],
            &self.locals,
            &mut self.out,
            &self.snap,
            &self.shared,
        )
    }

    /// The replies sent, as text.
    pub fn sent(&self) -> Vec<String> {
        self.out
            .items()
            .iter()
            .map(|o| String::from_utf8_lossy(&o.data).into_owned())
            .collect()
    }
}

/// Calls `module.name` on `ctx`.
pub fn call(ctx: &mut Ctx<'_>, module: &str, name: &str, args: &[ArgValue<'_>]) -> i64 {
    let f = sipvm_proxy::modules::find(module)
        .and_then(|m| m.natives.iter().find(|i| i.name == name))
        .map(|i| i.f)
        .unwrap_or_else(|| panic!("{module}.{name} implemented"));
    f(ctx, args).unwrap_or_else(|e| panic!("{module}.{name}: {e}"))
}

/// Like [`call`], for a native expected to fail with a host error.
pub fn call_err(ctx: &mut Ctx<'_>, module: &str, name: &str, args: &[ArgValue<'_>]) -> String {
    let f = sipvm_proxy::modules::find(module)
        .and_then(|m| m.natives.iter().find(|i| i.name == name))
        .map(|i| i.f)
        .unwrap_or_else(|| panic!("{module}.{name} implemented"));
    f(ctx, args).expect_err("a host error").0
}

pub fn s(x: &str) -> ArgValue<'static> {
    ArgValue::Val(Value::Str(Arc::from(x)))
}

pub fn i(n: i64) -> ArgValue<'static> {
    ArgValue::Val(Value::Int(n))
}

/// The message with the ctx's edits applied.
pub fn serialized(ctx: &Ctx<'_>) -> String {
    let mut out = Vec::new();
    ctx.msg
        .serialize(&ctx.edits, &mut out)
        .expect("edits apply");
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with CRLF line ends.
pub fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The status code of a reply.
pub fn code(reply: &str) -> u16 {
    reply[8..11].parse().unwrap()
}

/// A regex as the compiler builds it (extended, case-insensitive).
pub fn re(p: &str) -> regex::Regex {
    regex::RegexBuilder::new(p)
        .case_insensitive(true)
        .build()
        .unwrap()
}
