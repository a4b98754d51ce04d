//! Every value rule observed on kamailio 5.6.3 (docs/semantics.md).

mod common;
use common::s;
use sipvm_vm::{BinOp, UnOp, Value, ValueError};

fn i(x: i64) -> Value {
    Value::Int(x)
}
const N: Value = Value::Null;

fn bin(op: BinOp, a: Value, b: Value) -> Value {
    Value::binop(op, &a, &b).unwrap()
}

#[test]
fn n1_n2_truth() {
    assert!(!s("abc").truth());
    assert!(!s("").truth());
    assert!(!s("0").truth());
    assert!(s("1").truth());
    assert!(!s("-3").truth());
    assert!(!i(0).truth());
    assert!(!i(-3).truth());
    assert!(i(7).truth());
    assert!(!N.truth());
    // `!` is C's: !-3 == 0, !"abc" == 1, !"" == 1
    assert_eq!(Value::unop(UnOp::Not, &i(-3)), i(0));
    assert_eq!(Value::unop(UnOp::Not, &s("abc")), i(1));
    assert_eq!(Value::unop(UnOp::Not, &s("")), i(1));
    assert_eq!(Value::unop(UnOp::Not, &i(2)), i(0));
}

#[test]
fn n3_n5_plus() {
    assert_eq!(bin(BinOp::Add, s("abc"), i(1)), s("abc1"));
    assert_eq!(bin(BinOp::Add, i(1), s("abc")), i(1));
    assert_eq!(bin(BinOp::Add, i(1), s("12")), i(13));
    assert_eq!(bin(BinOp::Add, s("12"), i(1)), s("121"));
    assert_eq!(bin(BinOp::Add, N, i(1)), i(1));
    assert_eq!(bin(BinOp::Add, N, s("abc")), s("abc"));
    assert_eq!(bin(BinOp::Add, i(1), N), i(1));
    assert_eq!(bin(BinOp::Add, s("abc"), N), s("abc"));
    assert_eq!(bin(BinOp::Add, N, N), s(""));
    assert_eq!(bin(BinOp::Add, i(1), s("12x")), i(1));
    assert_eq!(bin(BinOp::Add, i(1), s(" 7")), i(1));
    assert_eq!(bin(BinOp::Add, i(1), s("-3")), i(-2));
}

#[test]
fn n4_int_conversion() {
    assert_eq!(s("12x").to_int(), 0);
    assert_eq!(s("abc").to_int(), 0);
    assert_eq!(s("+5").to_int(), 5);
    assert_eq!(s("-").to_int(), 0);
    assert_eq!(s("").to_int(), 0);
    assert_eq!(s("-7").to_int(), -7);
    assert_eq!(s("abc").try_int(), None);
    assert_eq!(Value::unop(UnOp::ToInt, &s("12x")), i(0));
    assert_eq!(Value::unop(UnOp::ToInt, &N), i(0));
}

#[test]
fn n6_var_null_is_zero() {
    assert_eq!(N.for_var(), i(0));
    assert_eq!(s("").for_var(), s(""));
}

#[test]
fn n7_n8_equality() {
    let eq = |a, b| bin(BinOp::Eq, a, b);
    assert_eq!(eq(s("5"), i(5)), i(1));
    assert_eq!(eq(i(5), s("05")), i(1));
    assert_eq!(eq(s("05"), i(5)), i(0));
    assert_eq!(eq(i(5), s("abc")), i(0));
    assert_eq!(eq(i(0), s("abc")), i(1));
    assert_eq!(eq(s("abc"), s("ABC")), i(0));
    assert_eq!(eq(N, i(0)), i(1));
    assert_eq!(eq(N, s("")), i(1));
    assert_eq!(eq(s(""), N), i(0));
    assert_eq!(eq(i(0), N), i(0));
    assert_eq!(eq(N, N), i(1));
    assert_eq!(bin(BinOp::Ne, i(0), N), i(1));
    assert_eq!(bin(BinOp::Ne, N, N), i(0));
    assert_eq!(bin(BinOp::EqNoCase, s("invite"), s("INVITE")), i(1));
    assert_eq!(bin(BinOp::EqNoCase, s("x"), N), i(0));
}

#[test]
fn n9_division_by_zero() {
    assert_eq!(
        Value::binop(BinOp::Div, &i(5), &i(0)),
        Err(ValueError::DivByZero)
    );
    assert_eq!(
        Value::binop(BinOp::Mod, &i(5), &i(0)),
        Err(ValueError::ModByZero)
    );
    assert_eq!(
        Value::binop(BinOp::Div, &i(5), &s("abc")),
        Err(ValueError::DivByZero)
    );
}

#[test]
fn n10_arithmetic() {
    assert_eq!(bin(BinOp::Mod, i(-7), i(3)), i(-1));
    assert_eq!(bin(BinOp::Mod, i(7), i(-3)), i(1));
    assert_eq!(bin(BinOp::Div, i(-7), i(2)), i(-3));
    assert_eq!(bin(BinOp::Sub, s("abc"), i(1)), i(-1));
    assert_eq!(bin(BinOp::Sub, s("12"), i(1)), i(11));
    assert_eq!(bin(BinOp::Mul, s("12"), s("12")), i(144));
    assert_eq!(bin(BinOp::Mul, s("abc"), i(2)), i(0));
    assert_eq!(bin(BinOp::Shl, i(1), i(3)), i(8));
    assert_eq!(bin(BinOp::Shr, i(-7), i(1)), i(-4));
    assert_eq!(bin(BinOp::BitAnd, i(6), s("12")), i(4));
    assert_eq!(bin(BinOp::BitXor, i(6), s("12")), i(10));
    assert_eq!(bin(BinOp::BitOr, i(6), i(12)), i(14));
}

#[test]
fn n11_comparisons_are_integer() {
    assert_eq!(bin(BinOp::Lt, s("abc"), s("abd")), i(0));
    assert_eq!(bin(BinOp::Gt, s("abc"), s("ab")), i(0));
    assert_eq!(bin(BinOp::Lt, s("12"), s("9")), i(0));
    assert_eq!(bin(BinOp::Lt, s("12"), i(9)), i(0));
    assert_eq!(bin(BinOp::Lt, i(5), s("12")), i(1));
    assert_eq!(bin(BinOp::Lt, N, i(-3)), i(0));
    assert_eq!(bin(BinOp::Le, i(3), i(3)), i(1));
    assert_eq!(bin(BinOp::Ge, i(2), i(3)), i(0));
}

#[test]
fn n12_n13_n14_unary() {
    assert_eq!(Value::unop(UnOp::Neg, &s("12")), i(-12));
    assert_eq!(Value::unop(UnOp::Neg, &N), i(0));
    assert_eq!(Value::unop(UnOp::BitNot, &i(0)), i(-1));
    assert_eq!(Value::unop(UnOp::ToStr, &i(5)), s("5"));
    assert_eq!(Value::unop(UnOp::ToStr, &N), s(""));
    assert_eq!(Value::unop(UnOp::Strlen, &s("abc")), i(3));
    assert_eq!(Value::unop(UnOp::Strlen, &i(5)), i(1));
    assert_eq!(Value::unop(UnOp::Strlen, &N), i(0));
    assert_eq!(Value::unop(UnOp::StrEmpty, &s("")), i(1));
    assert_eq!(Value::unop(UnOp::StrEmpty, &N), i(1));
    assert_eq!(Value::unop(UnOp::StrEmpty, &i(0)), i(0));
    assert_eq!(Value::unop(UnOp::Defined, &N), i(0));
    assert_eq!(Value::unop(UnOp::Defined, &i(0)), i(1));
}

#[test]
fn n15_dynamic_regex() {
    assert_eq!(bin(BinOp::MatchDyn, s("abc"), s("^A")), i(1));
    assert_eq!(bin(BinOp::MatchDyn, s("abc"), s("B+C")), i(1));
    assert_eq!(bin(BinOp::MatchDyn, s("abc"), s("^b")), i(0));
    assert!(matches!(
        Value::binop(BinOp::MatchDyn, &s("abc"), &s("(")),
        Err(ValueError::BadRegex(..))
    ));
}

#[test]
fn n16_xlog_form() {
    let mut out = String::new();
    N.write_xlog(&mut out);
    i(5).write_xlog(&mut out);
    s("x").write_xlog(&mut out);
    assert_eq!(out, "<null>5x");
}

#[test]
fn n17_32_bit_integers() {
    assert_eq!(bin(BinOp::Add, i(2147483647), i(1)), i(-2147483648));
    assert_eq!(s("9999999999").to_int(), 0);
    assert_eq!(s("2147483647").to_int(), 2147483647);
    assert_eq!(s("-2147483648").to_int(), -2147483648);
    assert_eq!(s("2147483648").to_int(), 0);
    assert_eq!(bin(BinOp::Div, i(-2147483648), i(-1)), i(-2147483648));
}
