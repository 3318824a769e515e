//! String functions that build new strings: `trim`/`btrim`/`ltrim`/`rtrim`, `concat`,
//! `concat_ws`, `replace`, `reverse`, `repeat`, `lpad`, `rpad`, `translate`, `initcap`, `chr`,
//! `md5` and `to_hex`.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::datatypes::{DataType, Int64Type};
use md5::{Digest, Md5};

use super::string::{Utf8Out, build_str, char_prefix, map_str};
use super::{Arg, Param, Signature, builtin, eval};
use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};

/// The string-building built-ins.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    use DataType::Utf8;
    use Param::{Int, Str, Text};
    let trim_sig = || Signature::Fixed {
        params: &[Str, Str],
        required: 1,
        ret: Utf8,
    };
    let pad_sig = || Signature::Fixed {
        params: &[Str, Int, Str],
        required: 2,
        ret: Utf8,
    };
    vec![
        builtin("trim", trim_sig(), |a, n| trim(a, n, Side::Both)),
        builtin("btrim", trim_sig(), |a, n| trim(a, n, Side::Both)),
        builtin("ltrim", trim_sig(), |a, n| trim(a, n, Side::Left)),
        builtin("rtrim", trim_sig(), |a, n| trim(a, n, Side::Right)),
        builtin("lpad", pad_sig(), |a, n| pad(a, n, Side::Left)),
        builtin("rpad", pad_sig(), |a, n| pad(a, n, Side::Right)),
        builtin(
            "concat",
            Signature::Variadic {
                param: Text,
                min: 1,
                ret: Utf8,
            },
            concat,
        ),
        builtin(
            "concat_ws",
            Signature::Variadic {
                param: Text,
                min: 1,
                ret: Utf8,
            },
            concat_ws,
        ),
        builtin("replace", Signature::exact(&[Str, Str, Str], Utf8), replace),
        builtin(
            "translate",
            Signature::exact(&[Str, Str, Str], Utf8),
            translate,
        ),
        builtin("repeat", Signature::exact(&[Str, Int], Utf8), repeat),
        builtin("reverse", Signature::exact(&[Str], Utf8), |a, n| {
            eval(a, n, |a, _| {
                map_str(&a[0], |v, buf| buf.extend(v.chars().rev()))
            })
        }),
        builtin("initcap", Signature::exact(&[Str], Utf8), initcap),
        builtin("chr", Signature::exact(&[Int], Utf8), chr),
        builtin("md5", Signature::exact(&[Str], Utf8), md5),
        builtin("to_hex", Signature::exact(&[Int], Utf8), to_hex),
    ]
}

/// Which end(s) of a string a function works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Both,
}

/// `trim(s[, characters])`: removes the characters (default: spaces) from the side(s).
fn trim(args: &[ColumnarValue], num_rows: usize, side: Side) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let s = a[0].strings()?;
        let set = a.get(1).map(Arg::strings).transpose()?;
        build_str(rows, |i| {
            let Some(v) = s.get(i) else { return Ok(None) };
            let chars = match &set {
                None => " ",
                Some(set) => match set.get(i) {
                    Some(chars) => chars,
                    None => return Ok(None),
                },
            };
            let strip = |c: char| chars.contains(c);
            Ok(Some(match side {
                Side::Left => v.trim_start_matches(strip),
                Side::Right => v.trim_end_matches(strip),
                Side::Both => v.trim_matches(strip),
            }))
        })
    })
}

/// `lpad`/`rpad(s, n[, fill])`: pads `s` to `n` characters with `fill` (default: a space),
/// or cuts it to `n` characters when longer. An empty fill leaves `s` as it is.
fn pad(args: &[ColumnarValue], num_rows: usize, side: Side) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (s, n) = (a[0].strings()?, a[1].primitive::<Int64Type>()?);
        let fill = a.get(2).map(Arg::strings).transpose()?;
        let mut out = Utf8Out::with_capacity(rows, 0);
        for i in 0..rows {
            let fill = match &fill {
                None => Some(" "),
                Some(f) => f.get(i),
            };
            let (Some(v), Some(n), Some(fill)) = (s.get(i), n.get(i), fill) else {
                out.push(None)?;
                continue;
            };
            let target = usize::try_from(n).unwrap_or(0);
            let len = v.chars().count();
            if target <= len || fill.is_empty() {
                out.push(Some(char_prefix(v, target)))?;
                continue;
            }
            let missing = target - len;
            out.ensure_room(missing.saturating_add(v.len()))?;
            if side == Side::Right {
                out.write(v);
            }
            fill.chars()
                .cycle()
                .take(missing)
                .for_each(|c| out.write_char(c));
            if side == Side::Left {
                out.write(v);
            }
            out.end_row()?;
        }
        Ok(out.finish())
    })
}

/// `concat(...)`: the arguments as strings, one after another; NULLs are skipped, so the result
/// is never NULL.
fn concat(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let parts = a.iter().map(Arg::strings).collect::<Result<Vec<_>>>()?;
        let mut out = Utf8Out::with_capacity(rows, 0);
        for i in 0..rows {
            parts
                .iter()
                .filter_map(|p| p.get(i))
                .for_each(|v| out.write(v));
            out.end_row()?;
        }
        Ok(out.finish())
    })
}

/// `concat_ws(separator, ...)`: the non-NULL arguments joined by the separator; NULL only when
/// the separator is NULL.
fn concat_ws(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let parts = a.iter().map(Arg::strings).collect::<Result<Vec<_>>>()?;
        let mut out = Utf8Out::with_capacity(rows, 0);
        for i in 0..rows {
            let Some(sep) = parts[0].get(i) else {
                out.push(None)?;
                continue;
            };
            for (k, v) in parts[1..].iter().filter_map(|p| p.get(i)).enumerate() {
                if k > 0 {
                    out.write(sep);
                }
                out.write(v);
            }
            out.end_row()?;
        }
        Ok(out.finish())
    })
}

/// `replace(s, from, to)`: every occurrence of `from` replaced by `to` (an empty `from` matches
/// nothing).
fn replace(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (s, from, to) = (a[0].strings()?, a[1].strings()?, a[2].strings()?);
        let mut out = Utf8Out::with_capacity(rows, 0);
        for i in 0..rows {
            let (Some(v), Some(from), Some(to)) = (s.get(i), from.get(i), to.get(i)) else {
                out.push(None)?;
                continue;
            };
            if from.is_empty() {
                out.push(Some(v))?;
                continue;
            }
            let mut last = 0;
            for (at, _) in v.match_indices(from) {
                out.write(&v[last..at]);
                out.write(to);
                last = at + from.len();
            }
            out.write(&v[last..]);
            out.end_row()?;
        }
        Ok(out.finish())
    })
}

/// `translate(s, from, to)`: each character of `s` found in `from` becomes the character at the
/// same place in `to`, or is dropped when `to` is shorter.
fn translate(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (s, from, to) = (a[0].strings()?, a[1].strings()?, a[2].strings()?);
        let mut out = Utf8Out::with_capacity(rows, 0);
        let (mut from_chars, mut to_chars) = (Vec::new(), Vec::new());
        for i in 0..rows {
            let (Some(v), Some(from), Some(to)) = (s.get(i), from.get(i), to.get(i)) else {
                out.push(None)?;
                continue;
            };
            from_chars.clear();
            from_chars.extend(from.chars());
            to_chars.clear();
            to_chars.extend(to.chars());
            for c in v.chars() {
                match from_chars.iter().position(|&f| f == c) {
                    Some(k) => to_chars.get(k).into_iter().for_each(|&t| out.write_char(t)),
                    None => out.write_char(c),
                }
            }
            out.end_row()?;
        }
        Ok(out.finish())
    })
}

/// `repeat(s, n)`: `s` written `n` times (`''` for `n <= 0`).
fn repeat(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (s, n) = (a[0].strings()?, a[1].primitive::<Int64Type>()?);
        let mut out = Utf8Out::with_capacity(rows, 0);
        for i in 0..rows {
            let (Some(v), Some(n)) = (s.get(i), n.get(i)) else {
                out.push(None)?;
                continue;
            };
            if !v.is_empty() {
                let n = usize::try_from(n).unwrap_or(0);
                out.ensure_room(v.len().saturating_mul(n))?;
                (0..n).for_each(|_| out.write(v));
            }
            out.end_row()?;
        }
        Ok(out.finish())
    })
}

/// `initcap(s)`: the first letter of every word upper case, the rest lower case (words are runs
/// of letters and digits).
fn initcap(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        map_str(&a[0], |v, buf| {
            let mut in_word = false;
            for c in v.chars() {
                match (c.is_alphanumeric(), in_word) {
                    (true, true) => buf.extend(c.to_lowercase()),
                    (true, false) => buf.extend(c.to_uppercase()),
                    (false, _) => buf.push(c),
                }
                in_word = c.is_alphanumeric();
            }
        })
    })
}

fn chr(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let codes = a[0].primitive::<Int64Type>()?;
        let mut out = Utf8Out::with_capacity(rows, rows);
        for i in 0..rows {
            let Some(n) = codes.get(i) else {
                out.push(None)?;
                continue;
            };
            match u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .filter(|c| *c != '\0')
            {
                Some(c) => out.write_char(c),
                None => {
                    return Err(Error::execution(format!(
                        "chr: {n} is not a valid character code"
                    )));
                }
            }
            out.end_row()?;
        }
        Ok(out.finish())
    })
}

fn md5(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        map_str(&a[0], |v, buf| {
            for byte in Md5::digest(v.as_bytes()) {
                let _ = write!(buf, "{byte:02x}");
            }
        })
    })
}

/// `to_hex(n)`: lower-case hexadecimal; negative numbers show their 64-bit two's complement.
fn to_hex(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let values = a[0].primitive::<Int64Type>()?.array();
        let mut out = Utf8Out::with_capacity(values.len(), values.len() * 8);
        let mut buf = String::new();
        for v in values {
            match v {
                Some(v) => {
                    buf.clear();
                    let _ = write!(buf, "{v:x}");
                    out.push(Some(&buf))?;
                }
                None => out.push(None)?,
            }
        }
        Ok(out.finish())
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use arrow::array::{BooleanArray, Date32Array};
    use datafusion_common::ScalarValue;
    use std::sync::Arc;

    use crate::functions::ColumnarValue;

    const NULL_STR: ScalarValue = ScalarValue::Utf8(None);

    #[test]
    fn trims() {
        assert_eq!(call_scalars("trim", vec![s("  a b  ")]).unwrap(), s("a b"));
        assert_eq!(call_scalars("trim", vec![s("\ta ")]).unwrap(), s("\ta"));
        assert_eq!(call_scalars("ltrim", vec![s("  ab  ")]).unwrap(), s("ab  "));
        assert_eq!(call_scalars("rtrim", vec![s("  ab  ")]).unwrap(), s("  ab"));
        assert_eq!(
            call_scalars("btrim", vec![s("xyxabcyx"), s("xy")]).unwrap(),
            s("abc")
        );
        assert_eq!(
            call_scalars("ltrim", vec![s("ééaé"), s("é")]).unwrap(),
            s("aé")
        );
        assert_eq!(
            call_scalars("trim", vec![s("abc"), NULL_STR]).unwrap(),
            NULL_STR
        );
        assert_eq!(
            call_scalars("trim", vec![s("abc"), s("")]).unwrap(),
            s("abc")
        );
        let out = call("trim", vec![strs(&[Some(" a "), None, Some("")])]).unwrap();
        assert_eq!(out.as_ref(), strs(&[Some("a"), None, Some("")]).as_ref());
    }

    #[test]
    fn pads() {
        assert_eq!(
            call_scalars("lpad", vec![s("hi"), i(5)]).unwrap(),
            s("   hi")
        );
        assert_eq!(
            call_scalars("lpad", vec![s("hi"), i(5), s("xy")]).unwrap(),
            s("xyxhi")
        );
        assert_eq!(
            call_scalars("rpad", vec![s("hi"), i(5), s("é")]).unwrap(),
            s("hiééé")
        );
        assert_eq!(
            call_scalars("lpad", vec![s("hello"), i(2)]).unwrap(),
            s("he")
        );
        assert_eq!(
            call_scalars("rpad", vec![s("hello"), i(-1)]).unwrap(),
            s("")
        );
        assert_eq!(
            call_scalars("lpad", vec![s("hi"), i(5), s("")]).unwrap(),
            s("hi")
        );
        assert_eq!(
            call_scalars("lpad", vec![s("hi"), i(5), NULL_STR]).unwrap(),
            NULL_STR
        );
        assert!(err_msg(call_scalars("lpad", vec![s("hi"), i(i64::MAX)])).contains("too large"));
    }

    #[test]
    fn concats_skip_nulls() {
        let out = call(
            "concat",
            vec![
                strs(&[Some("a"), None, None]),
                ints(&[Some(1), Some(2), None]),
            ],
        )
        .unwrap();
        assert_eq!(
            out.as_ref(),
            strs(&[Some("a1"), Some("2"), Some("")]).as_ref()
        );
        assert_eq!(call_scalars("concat", vec![NULL_STR]).unwrap(), s(""));
        let bools: arrow::array::ArrayRef = Arc::new(BooleanArray::from(vec![true]));
        let dates: arrow::array::ArrayRef = Arc::new(Date32Array::from(vec![0]));
        assert_eq!(
            call("concat", vec![bools, dates]).unwrap().as_ref(),
            strs(&[Some("true1970-01-01")]).as_ref()
        );
        let ws = |args| call_scalars("concat_ws", args);
        assert_eq!(
            ws(vec![s(", "), s("a"), NULL_STR, s("b")]).unwrap(),
            s("a, b")
        );
        assert_eq!(ws(vec![NULL_STR, s("a")]).unwrap(), NULL_STR);
        assert_eq!(ws(vec![s("-")]).unwrap(), s(""));
        assert_eq!(ws(vec![s("-"), NULL_STR, s("x")]).unwrap(), s("x"));
        let out = call_values(
            "concat_ws",
            vec![
                ColumnarValue::Scalar(s("/")),
                ColumnarValue::Array(strs(&[Some("a"), None])),
                ColumnarValue::Scalar(s("z")),
            ],
            2,
        )
        .unwrap()
        .into_array(2)
        .unwrap();
        assert_eq!(out.as_ref(), strs(&[Some("a/z"), Some("z")]).as_ref());
    }

    #[test]
    fn replace_translate_repeat_reverse() {
        assert_eq!(
            call_scalars("replace", vec![s("abcabc"), s("bc"), s("X")]).unwrap(),
            s("aXaX")
        );
        assert_eq!(
            call_scalars("replace", vec![s("abc"), s(""), s("X")]).unwrap(),
            s("abc")
        );
        assert_eq!(
            call_scalars("replace", vec![s("aaa"), s("a"), s("")]).unwrap(),
            s("")
        );
        assert_eq!(
            call_scalars("replace", vec![s("abc"), NULL_STR, s("X")]).unwrap(),
            NULL_STR
        );
        assert_eq!(
            call_scalars("translate", vec![s("12345"), s("143"), s("ax")]).unwrap(),
            s("a2x5")
        );
        assert_eq!(
            call_scalars("translate", vec![s("héllo"), s("él"), s("EL")]).unwrap(),
            s("hELLo")
        );
        assert_eq!(
            call_scalars("repeat", vec![s("ab"), i(3)]).unwrap(),
            s("ababab")
        );
        assert_eq!(call_scalars("repeat", vec![s("ab"), i(-3)]).unwrap(), s(""));
        assert!(err_msg(call_scalars("repeat", vec![s("ab"), i(i64::MAX)])).contains("too large"));
        assert_eq!(
            call_scalars("reverse", vec![s("héllo")]).unwrap(),
            s("olléh")
        );
        assert_eq!(call_scalars("reverse", vec![NULL_STR]).unwrap(), NULL_STR);
    }

    #[test]
    fn initcap_words() {
        assert_eq!(
            call_scalars("initcap", vec![s("hello WORLD, it's 2nd-best")]).unwrap(),
            s("Hello World, It'S 2nd-Best")
        );
        assert_eq!(
            call_scalars("initcap", vec![s("élan vital")]).unwrap(),
            s("Élan Vital")
        );
        assert_eq!(call_scalars("initcap", vec![s("")]).unwrap(), s(""));
    }

    #[test]
    fn chr_md5_to_hex() {
        assert_eq!(call_scalars("chr", vec![i(65)]).unwrap(), s("A"));
        assert_eq!(call_scalars("chr", vec![i(8364)]).unwrap(), s("€"));
        assert!(call_scalars("chr", vec![i(0)]).is_err());
        assert!(call_scalars("chr", vec![i(0xD800)]).is_err());
        assert!(call_scalars("chr", vec![i(-1)]).is_err());
        assert_eq!(
            call_scalars("md5", vec![s("abc")]).unwrap(),
            s("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            call_scalars("md5", vec![s("")]).unwrap(),
            s("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(call_scalars("to_hex", vec![i(255)]).unwrap(), s("ff"));
        assert_eq!(
            call_scalars("to_hex", vec![i(-1)]).unwrap(),
            s("ffffffffffffffff")
        );
        assert_eq!(
            call_scalars("to_hex", vec![ScalarValue::Null]).unwrap(),
            NULL_STR
        );
    }
}
