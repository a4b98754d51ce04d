//! The registry, parameters, argument typing and the HTTP server on loopback.

use serde_json::json;
use sipvm_rpc::client::{self, arg, split_url};
use sipvm_rpc::{serve, Params, Registry, RpcError, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

fn registry() -> Arc<Registry> {
    let r = Registry::new();
    r.method("test.echo", "Returns its parameters.", |p| {
        Ok(Value::from(p.values().to_vec()))
    });
    r.method("test.add", "Adds two integers.", |p| {
        Ok(Value::from(p.int(0, "a")? + p.int(1, "b")?))
    });
    r.method("test.greet", "Greets a name.", |p| {
        Ok(Value::from(format!("hello {}", p.str(0, "name")?)))
    });
    r.method("test.panic", "Panics.", |_| panic!("boom"));
    Arc::new(r)
}

#[test]
fn argument_typing_follows_kamcmd() {
    let cases: &[(&str, Value)] = &[
        ("42", json!(42)),
        ("-7", json!(-7)),
        ("0", json!(0)),
        ("abc", json!("abc")),
        ("A+", json!("A+")),
        ("1.5", json!("1.5")),
        ("", json!("")),
        ("s:42", json!("42")),
        ("s:abc", json!("abc")),
        ("s:", json!("")),
        ("99999999999999999999", json!("99999999999999999999")),
        ("sip:127.0.0.1:5080", json!("sip:127.0.0.1:5080")),
    ];
    for (a, want) in cases {
        assert_eq!(&arg(a), want, "{a:?}");
    }
}

#[test]
fn urls() {
    let cases = [
        ("http://127.0.0.1:5065/RPC", ("127.0.0.1:5065", "/RPC")),
        ("http://127.0.0.1:9/x/y", ("127.0.0.1:9", "/x/y")),
        ("127.0.0.1:5065", ("127.0.0.1:5065", "/RPC")),
        ("localhost:1", ("localhost:1", "/RPC")),
    ];
    for (url, (hp, path)) in cases {
        assert_eq!(split_url(url), (hp.to_string(), path.to_string()), "{url}");
    }
}

#[test]
fn params_positional_and_named_parameters() {
    let p = Params::from_json(Some(json!({"a": 1, "b": "x"}))).unwrap();
    assert_eq!(p.values(), &[json!(1), json!("x")]);
    assert!(Params::from_json(None).unwrap().is_empty());
    assert!(Params::from_json(Some(Value::Null)).unwrap().is_empty());
    assert_eq!(
        Params::from_json(Some(json!("x"))).unwrap_err().code,
        -32600
    );
}

#[test]
fn typed_getters_name_the_parameter() {
    let p = Params::new(vec![
        json!("abc"),
        json!("12"),
        json!(7),
        json!(1.5),
        Value::Null,
    ]);
    assert_eq!(p.str(0, "table").unwrap(), "abc");
    assert_eq!(p.int(1, "value").unwrap(), 12);
    assert_eq!(p.int(2, "value").unwrap(), 7);
    assert_eq!(p.str(2, "key").unwrap(), "7");
    let cases: &[(Result<Value, RpcError>, &str)] = &[
        (
            p.int(0, "value").map(Value::from),
            "parameter 'value' must be an integer",
        ),
        (
            p.int(3, "value").map(Value::from),
            "parameter 'value' must be an integer",
        ),
        (
            p.int(9, "expire").map(Value::from),
            "missing parameter 'expire'",
        ),
        (
            p.str(4, "name").map(Value::from),
            "missing parameter 'name'",
        ),
        (
            p.str(9, "name").map(Value::from),
            "missing parameter 'name'",
        ),
    ];
    for (r, msg) in cases {
        let e = r.clone().unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (500, *msg));
    }
    assert_eq!(p.opt_int(9, "n").unwrap(), None);
    assert_eq!(p.opt_int(4, "n").unwrap(), None);
    assert_eq!(p.opt_str(0, "n").unwrap().as_deref(), Some("abc"));
    assert!(p.opt_int(0, "n").is_err());
}

#[test]
fn builtins_and_dispatch() {
    let r = registry();
    let names = r.call("system.listMethods", Params::default()).unwrap();
    assert_eq!(
        names,
        json!([
            "system.listMethods",
            "system.methodHelp",
            "test.add",
            "test.echo",
            "test.greet",
            "test.panic"
        ])
    );
    assert_eq!(
        r.call("system.methodHelp", Params::new(vec![json!("test.add")]))
            .unwrap(),
        json!("Adds two integers.")
    );
    assert_eq!(
        r.call("system.methodHelp", Params::new(vec![json!("nope")]))
            .unwrap_err(),
        RpcError::internal("Method Not Found")
    );
    assert_eq!(
        r.call("nosuch", Params::default()).unwrap_err(),
        RpcError::new(500, "Method Not Found")
    );
    assert_eq!(
        r.call("test.panic", Params::default()).unwrap_err().code,
        500
    );
}

#[test]
fn request_bodies() {
    let r = registry();
    let cases: &[(&str, Option<Value>)] = &[
        (
            r#"{"jsonrpc":"2.0","method":"test.add","params":[2,3],"id":1}"#,
            Some(json!({"jsonrpc":"2.0","result":5,"id":1})),
        ),
        (
            r#"{"jsonrpc":"2.0","method":"test.add","params":{"x":2,"y":"40"},"id":"a"}"#,
            Some(json!({"jsonrpc":"2.0","result":42,"id":"a"})),
        ),
        (
            r#"{"jsonrpc":"2.0","method":"test.add","params":[2,"abc"],"id":2}"#,
            Some(
                json!({"jsonrpc":"2.0","error":{"code":500,"message":"parameter 'b' must be an integer"},"id":2}),
            ),
        ),
        (
            r#"{"jsonrpc":"2.0","method":"nosuch","id":6}"#,
            Some(json!({"jsonrpc":"2.0","error":{"code":500,"message":"Method Not Found"},"id":6})),
        ),
        (
            "not json",
            Some(
                json!({"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse Error"},"id":null}),
            ),
        ),
        (
            "[]",
            Some(
                json!({"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: empty batch"},"id":null}),
            ),
        ),
        (
            r#"{"jsonrpc":"2.0","id":3}"#,
            Some(
                json!({"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: no method"},"id":3}),
            ),
        ),
        (
            "42",
            Some(
                json!({"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: not an object"},"id":null}),
            ),
        ),
        (
            r#"{"jsonrpc":"2.0","method":"test.add","params":[1,1]}"#,
            None,
        ),
        (
            r#"[{"jsonrpc":"2.0","method":"test.greet","params":["bo"],"id":1},{"jsonrpc":"2.0","method":"test.add","params":[1,1]}]"#,
            Some(json!([{"jsonrpc":"2.0","result":"hello bo","id":1}])),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(&r.handle_body(body.as_bytes()), want, "{body}");
    }
}

fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn http_server_on_loopback() {
    let h = serve("127.0.0.1:0", registry()).unwrap();
    let addr = h.local_addr();
    let url = format!("http://{addr}/RPC");
    // Any path.
    let url2 = format!("http://{addr}/whatever/else");
    assert_eq!(
        client::call(&url, "test.add", vec![json!(20), json!(22)]).unwrap(),
        Ok(json!(42))
    );
    assert_eq!(
        client::call(&url2, "test.greet", vec![json!("x")]).unwrap(),
        Ok(json!("hello x"))
    );
    // Malformed JSON, then the server goes on serving.
    let (status, body) = client::post(&url, b"{not json").unwrap();
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], json!(-32700));
    assert_eq!(v["id"], Value::Null);
    // HTTP-level refusals.
    assert!(raw(addr, b"GET /RPC HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
    assert!(raw(addr, b"POST /RPC HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 411 "));
    assert!(
        raw(addr, b"POST /RPC HTTP/1.1\r\nContent-Length: zz\r\n\r\n").starts_with("HTTP/1.1 400 ")
    );
    assert!(raw(
        addr,
        b"POST /RPC HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"
    )
    .starts_with("HTTP/1.1 413 "));
    let huge = vec![b'a'; 20_000];
    assert!(raw(addr, &huge).starts_with("HTTP/1.1 431 "));
    // `Expect: 100-continue` (curl, for bodies over 1 KiB) is honoured.
    let body = br#"{"jsonrpc":"2.0","method":"test.add","params":[1,2],"id":5}"#;
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /RPC HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut first = [0u8; 25];
    s.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    // Kamailio's default pretty_format: `"result":<TAB>3`.
    assert!(out.contains("\"result\":\t3"), "{out}");
    // A notification: nothing to answer.
    let (status, body) = client::post(
        &url,
        br#"{"jsonrpc":"2.0","method":"test.add","params":[1,1]}"#,
    )
    .unwrap();
    assert_eq!((status, body.len()), (204, 0));
    // A panicking handler answers 500; the server survives.
    assert_eq!(
        client::call(&url, "test.panic", vec![])
            .unwrap()
            .unwrap_err()
            .code,
        500
    );
    // The client prints as kamcmd does.
    let mut out = Vec::new();
    let code = client::cmd(
        Some(&url),
        "test.echo",
        &["1".into(), "s:2".into(), "x".into()],
        &mut out,
    );
    assert_eq!(
        (code, String::from_utf8(out).unwrap()),
        (0, "1\n2\nx\n".to_string())
    );
    let mut out = Vec::new();
    let code = client::cmd(Some(&url), "test.add", &["1".into()], &mut out);
    assert_eq!(
        (code, String::from_utf8(out).unwrap()),
        (1, "error: 500 - missing parameter 'b'\n".to_string())
    );
    let mut out = Vec::new();
    assert_eq!(client::cmd(Some(&url), "no.such", &[], &mut out), 1);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "error: 500 - command no.such not found\n"
    );
    h.stop();
    assert!(TcpStream::connect(addr).is_err(), "stopped");
    // Stopped: the client reports a transport failure.
    let mut out = Vec::new();
    assert_eq!(client::cmd(Some(&url), "test.add", &[], &mut out), 2);
}

#[test]
fn bind_errors_are_reported() {
    let h = serve("127.0.0.1:0", registry()).unwrap();
    let taken = h.local_addr().to_string();
    assert!(serve(&taken, registry()).is_err());
    assert!(serve("not an address", registry()).is_err());
}
