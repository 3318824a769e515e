//! String functions that inspect or cut strings: `lower`, `upper`, `length`, `octet_length`,
//! `substr`, `left`, `right`, `position`, `starts_with`, `ends_with`, `contains`, `split_part`
//! and `ascii`, plus the string-building helpers. Functions that build new strings are in
//! `string_edit`.
//!
//! Lengths and positions count characters (Unicode scalar values), not bytes, and are 1-based.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, StringArray, StringBuilder};
use arrow::buffer::Buffer;
use arrow::compute::kernels::comparison;
use arrow::datatypes::{DataType, Int64Type};

use super::{Arg, Param, Signature, builtin, eval};
use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};

/// The string-inspecting built-ins.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    use DataType::{Boolean, Int64, Utf8};
    use Param::{Int, Str};
    let sig = Signature::exact;
    vec![
        builtin("lower", sig(&[Str], Utf8), |a, n| change_case(a, n, false)),
        builtin("upper", sig(&[Str], Utf8), |a, n| change_case(a, n, true)),
        builtin("length", sig(&[Str], Int64), |a, n| {
            str_to_int(a, n, |v| v.chars().count())
        }),
        builtin("octet_length", sig(&[Str], Int64), |a, n| {
            str_to_int(a, n, str::len)
        }),
        builtin("ascii", sig(&[Str], Int64), |a, n| {
            str_to_int(a, n, |v| v.chars().next().map_or(0, |c| c as usize))
        }),
        builtin(
            "substr",
            Signature::Fixed {
                params: &[Str, Int, Int],
                required: 2,
                ret: Utf8,
            },
            substr,
        ),
        builtin("left", sig(&[Str, Int], Utf8), |a, n| cut(a, n, left_chars)),
        builtin("right", sig(&[Str, Int], Utf8), |a, n| {
            cut(a, n, right_chars)
        }),
        builtin("position", sig(&[Str, Str], Int64), position),
        builtin("starts_with", sig(&[Str, Str], Boolean), |a, n| {
            predicate(a, n, comparison::starts_with)
        }),
        builtin("ends_with", sig(&[Str, Str], Boolean), |a, n| {
            predicate(a, n, comparison::ends_with)
        }),
        builtin("contains", sig(&[Str, Str], Boolean), |a, n| {
            predicate(a, n, comparison::contains)
        }),
        builtin("split_part", sig(&[Str, Str, Int], Utf8), split_part),
    ]
}

/// The longest string a function may produce, as in PostgreSQL.
const MAX_VALUE_BYTES: usize = 1 << 30;

/// Builds a `Utf8` column row by row, failing (instead of panicking) past Arrow's 2 GiB limit
/// on the bytes of one string column or past [`MAX_VALUE_BYTES`] for one value.
pub struct Utf8Out(StringBuilder);

impl Utf8Out {
    /// An empty column with room for `rows` rows and `bytes` bytes.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        Utf8Out(StringBuilder::with_capacity(rows, bytes))
    }

    /// Fails unless a value of `extra` bytes is allowed and fits in the column.
    pub fn ensure_room(&self, extra: usize) -> Result<()> {
        if extra > MAX_VALUE_BYTES
            || self.0.values_slice().len().saturating_add(extra) > i32::MAX as usize
        {
            return Err(Error::execution(
                "string result too large (limits: 1 GiB per value, 2 GiB per column)",
            ));
        }
        Ok(())
    }

    /// Appends a whole row.
    pub fn push(&mut self, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => {
                self.ensure_room(v.len())?;
                self.0.append_value(v);
            }
            None => self.0.append_null(),
        }
        Ok(())
    }

    /// Appends text to the current row (finish it with [`Utf8Out::end_row`]).
    pub fn write(&mut self, s: &str) {
        // writing into a builder cannot fail
        let _ = self.0.write_str(s);
    }

    /// Appends a character to the current row.
    pub fn write_char(&mut self, c: char) {
        let _ = self.0.write_char(c);
    }

    /// Ends the current row (made of the preceding writes).
    pub fn end_row(&mut self) -> Result<()> {
        self.push(Some(""))
    }

    /// The finished column.
    pub fn finish(mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// Builds a string column of `rows` rows from slices of the inputs; `f` gives `None` for NULL.
pub fn build_str<'a>(
    rows: usize,
    mut f: impl FnMut(usize) -> Result<Option<&'a str>>,
) -> Result<ArrayRef> {
    let mut out = Utf8Out::with_capacity(rows, 0);
    for i in 0..rows {
        out.push(f(i)?)?;
    }
    Ok(out.finish())
}

/// Applies `f` to every non-NULL string of `arg`; `f` appends its result to a scratch string.
pub fn map_str(arg: &Arg, mut f: impl FnMut(&str, &mut String)) -> Result<ArrayRef> {
    let strings = arg.strings()?.array();
    let mut out = Utf8Out::with_capacity(strings.len(), strings.values().len());
    let mut buf = String::new();
    for v in strings {
        match v {
            Some(v) => {
                buf.clear();
                f(v, &mut buf);
                out.push(Some(&buf))?;
            }
            None => out.push(None)?,
        }
    }
    Ok(out.finish())
}

/// The byte offset of character `n` of `s` (the length when `s` is shorter).
pub fn byte_offset(s: &str, n: usize) -> usize {
    if s.is_ascii() {
        return n.min(s.len());
    }
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// The first `n` characters of `s`.
pub fn char_prefix(s: &str, n: usize) -> &str {
    &s[..byte_offset(s, n)]
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn change_case(args: &[ColumnarValue], num_rows: usize, upper: bool) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let strings = a[0].strings()?.array();
        if strings.values().is_ascii() {
            let values = strings.values();
            let bytes = if upper {
                values.to_ascii_uppercase()
            } else {
                values.to_ascii_lowercase()
            };
            let out = StringArray::try_new(
                strings.offsets().clone(),
                Buffer::from_vec(bytes),
                strings.nulls().cloned(),
            )?;
            return Ok(Arc::new(out));
        }
        map_str(&a[0], |v, buf| match (upper, v.is_ascii()) {
            (true, true) => buf.extend(v.chars().map(|c| c.to_ascii_uppercase())),
            (false, true) => buf.extend(v.chars().map(|c| c.to_ascii_lowercase())),
            (true, false) => buf.push_str(&v.to_uppercase()),
            (false, false) => buf.push_str(&v.to_lowercase()),
        })
    })
}

fn str_to_int(
    args: &[ColumnarValue],
    num_rows: usize,
    f: fn(&str) -> usize,
) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let out = Int64Array::from_unary(a[0].strings()?.array(), |v| f(v) as i64);
        Ok(Arc::new(out))
    })
}

/// SQL `substr(s, start[, len])`: characters `start .. start+len` (1-based) that exist in `s`;
/// a start before 1 still counts toward `len`, so `substr('hello', 0, 3)` is `'he'`.
fn substr_chars(s: &str, start: i64, len: Option<i64>) -> &str {
    let end = len.map_or(i64::MAX, |l| start.saturating_add(l));
    let from = start.max(1);
    if end <= from {
        return "";
    }
    let rest = &s[byte_offset(s, to_usize((from - 1) as u64))..];
    char_prefix(rest, to_usize((end - from) as u64))
}

fn substr(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (s, start) = (a[0].strings()?, a[1].primitive::<Int64Type>()?);
        let len = a.get(2).map(Arg::primitive::<Int64Type>).transpose()?;
        build_str(rows, |i| {
            let (Some(v), Some(start)) = (s.get(i), start.get(i)) else {
                return Ok(None);
            };
            let len = match &len {
                None => None,
                Some(l) => match l.get(i) {
                    None => return Ok(None),
                    Some(l) if l < 0 => {
                        return Err(Error::execution(
                            "substr: negative substring length not allowed",
                        ));
                    }
                    Some(l) => Some(l),
                },
            };
            Ok(Some(substr_chars(v, start, len)))
        })
    })
}

/// `left(s, n)`: the first `n` characters; a negative `n` drops the last `-n` instead.
fn left_chars(s: &str, n: i64) -> &str {
    if n >= 0 {
        return char_prefix(s, to_usize(n as u64));
    }
    let keep = s.chars().count().saturating_sub(to_usize(n.unsigned_abs()));
    char_prefix(s, keep)
}

/// `right(s, n)`: the last `n` characters; a negative `n` drops the first `-n` instead.
fn right_chars(s: &str, n: i64) -> &str {
    let skip = if n >= 0 {
        s.chars().count().saturating_sub(to_usize(n as u64))
    } else {
        to_usize(n.unsigned_abs())
    };
    &s[byte_offset(s, skip)..]
}

fn cut(args: &[ColumnarValue], num_rows: usize, f: fn(&str, i64) -> &str) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (s, n) = (a[0].strings()?, a[1].primitive::<Int64Type>()?);
        build_str(rows, |i| Ok(s.get(i).zip(n.get(i)).map(|(s, n)| f(s, n))))
    })
}

/// `position(haystack, needle)`: 1-based character position of the first match, 0 if none.
fn position(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (h, n) = (a[0].strings()?, a[1].strings()?);
        let out = (0..rows)
            .map(|i| {
                let (h, n) = (h.get(i)?, n.get(i)?);
                Some(h.find(n).map_or(0, |b| h[..b].chars().count() as i64 + 1))
            })
            .collect::<Int64Array>();
        Ok(Arc::new(out))
    })
}

type StrPredicate = fn(
    &dyn arrow::array::Datum,
    &dyn arrow::array::Datum,
) -> Result<BooleanArray, arrow::error::ArrowError>;

fn predicate(args: &[ColumnarValue], num_rows: usize, f: StrPredicate) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        Ok(Arc::new(f(a[0].datum().as_ref(), a[1].datum().as_ref())?))
    })
}

/// `split_part(s, delimiter, n)`: field `n` (1-based; negative counts from the end), `''` when
/// there is no such field.
fn split_part(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (s, d, n) = (
            a[0].strings()?,
            a[1].strings()?,
            a[2].primitive::<Int64Type>()?,
        );
        build_str(rows, |i| {
            let (Some(s), Some(d), Some(n)) = (s.get(i), d.get(i), n.get(i)) else {
                return Ok(None);
            };
            let k = to_usize(n.unsigned_abs()).saturating_sub(1);
            Ok(Some(match (n, d.is_empty()) {
                (0, _) => {
                    return Err(Error::execution(
                        "split_part: field position must not be zero",
                    ));
                }
                (1 | -1, true) => s,
                (_, true) => "",
                (n, false) if n > 0 => s.split(d).nth(k).unwrap_or(""),
                _ => s.rsplit(d).nth(k).unwrap_or(""),
            }))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use datafusion_common::ScalarValue;

    use crate::functions::ColumnarValue;

    const NULL_STR: ScalarValue = ScalarValue::Utf8(None);

    #[test]
    fn case_conversion() {
        let out = call("upper", vec![strs(&[Some("abc"), None, Some("")])]).unwrap();
        assert_eq!(out.as_ref(), strs(&[Some("ABC"), None, Some("")]).as_ref());
        let out = call(
            "lower",
            vec![strs(&[Some("ÄÖÜ Straße"), Some("MiXeD"), None])],
        )
        .unwrap();
        assert_eq!(
            out.as_ref(),
            strs(&[Some("äöü straße"), Some("mixed"), None]).as_ref()
        );
        assert_eq!(
            call_scalars("upper", vec![s("straße")]).unwrap(),
            s("STRASSE")
        );
        assert_eq!(call_scalars("lcase", vec![NULL_STR]).unwrap(), NULL_STR);
        // a sliced array keeps working on the fast path
        let sliced = strs(&[Some("aa"), Some("bb"), Some("cc")]).slice(1, 2);
        assert_eq!(
            call("upper", vec![sliced]).unwrap().as_ref(),
            strs(&[Some("BB"), Some("CC")]).as_ref()
        );
    }

    #[test]
    fn lengths_count_characters() {
        let out = call(
            "length",
            vec![strs(&[Some("héllo"), Some(""), None, Some("日本")])],
        )
        .unwrap();
        assert_eq!(
            out.as_ref(),
            ints(&[Some(5), Some(0), None, Some(2)]).as_ref()
        );
        assert_eq!(
            call_scalars("octet_length", vec![s("héllo")]).unwrap(),
            i(6)
        );
        assert_eq!(
            call_scalars("char_length", vec![ScalarValue::Null]).unwrap(),
            ScalarValue::Int64(None)
        );
        assert_eq!(call_scalars("ascii", vec![s("A")]).unwrap(), i(65));
        assert_eq!(call_scalars("ascii", vec![s("€")]).unwrap(), i(8364));
        assert_eq!(call_scalars("ascii", vec![s("")]).unwrap(), i(0));
    }

    #[test]
    fn substr_follows_sql_windows() {
        let cases: &[(i64, Option<i64>, &str)] = &[
            (1, Some(3), "hel"),
            (0, Some(3), "he"),
            (-1, Some(3), "h"),
            (-5, Some(3), ""),
            (2, None, "ello"),
            (-3, None, "hello"),
            (5, Some(10), "o"),
            (6, Some(1), ""),
            (100, None, ""),
            (2, Some(0), ""),
            (i64::MAX, Some(i64::MAX), ""),
            (i64::MIN, Some(i64::MAX), ""),
        ];
        for (start, len, want) in cases {
            let mut args = vec![s("hello"), i(*start)];
            args.extend(len.map(i));
            assert_eq!(
                call_scalars("substring", args).unwrap(),
                s(want),
                "substr(hello, {start}, {len:?})"
            );
        }
        assert_eq!(
            call_scalars("substr", vec![s("héllo wörld"), i(2), i(4)]).unwrap(),
            s("éllo")
        );
        let e = err_msg(call_scalars("substr", vec![s("hello"), i(1), i(-1)]));
        assert_eq!(e, "substr: negative substring length not allowed");
        assert_eq!(
            call_scalars("substr", vec![NULL_STR, i(1)]).unwrap(),
            NULL_STR
        );
        assert_eq!(
            call_scalars("substr", vec![s("abc"), i(1), ScalarValue::Int64(None)]).unwrap(),
            NULL_STR
        );
        // array string with scalar positions
        let out = call_values(
            "substr",
            vec![
                ColumnarValue::Array(strs(&[Some("abcdef"), None, Some("xy")])),
                ColumnarValue::Scalar(i(2)),
                ColumnarValue::Scalar(i(2)),
            ],
            3,
        )
        .unwrap()
        .into_array(3)
        .unwrap();
        assert_eq!(out.as_ref(), strs(&[Some("bc"), None, Some("y")]).as_ref());
    }

    #[test]
    fn left_and_right() {
        assert_eq!(
            call_scalars("left", vec![s("héllo"), i(2)]).unwrap(),
            s("hé")
        );
        assert_eq!(
            call_scalars("left", vec![s("hello"), i(-2)]).unwrap(),
            s("hel")
        );
        assert_eq!(
            call_scalars("left", vec![s("hello"), i(-10)]).unwrap(),
            s("")
        );
        assert_eq!(call_scalars("left", vec![s("hi"), i(10)]).unwrap(), s("hi"));
        assert_eq!(
            call_scalars("right", vec![s("héllo"), i(3)]).unwrap(),
            s("llo")
        );
        assert_eq!(
            call_scalars("right", vec![s("hello"), i(-2)]).unwrap(),
            s("llo")
        );
        assert_eq!(
            call_scalars("right", vec![s("hello"), i(i64::MIN)]).unwrap(),
            s("")
        );
        assert_eq!(
            call_scalars("right", vec![s("hello"), i(0)]).unwrap(),
            s("")
        );
    }

    #[test]
    fn position_and_predicates() {
        assert_eq!(
            call_scalars("position", vec![s("héllo"), s("llo")]).unwrap(),
            i(3)
        );
        assert_eq!(
            call_scalars("strpos", vec![s("hello"), s("z")]).unwrap(),
            i(0)
        );
        assert_eq!(
            call_scalars("instr", vec![s("hello"), s("")]).unwrap(),
            i(1)
        );
        assert_eq!(
            call_scalars("position", vec![NULL_STR, s("a")]).unwrap(),
            ScalarValue::Int64(None)
        );
        let out = call(
            "starts_with",
            vec![
                strs(&[Some("abc"), Some("xbc"), None]),
                strs(&[Some("ab"), Some("ab"), Some("ab")]),
            ],
        );
        let want: arrow::array::ArrayRef =
            std::sync::Arc::new(arrow::array::BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
            ]));
        assert_eq!(out.unwrap().as_ref(), want.as_ref());
        assert_eq!(
            call_scalars("ends_with", vec![s("abc"), s("bc")]).unwrap(),
            ScalarValue::Boolean(Some(true))
        );
        assert_eq!(
            call_scalars("contains", vec![s("abc"), s("d")]).unwrap(),
            ScalarValue::Boolean(Some(false))
        );
    }

    #[test]
    fn split_part_fields() {
        let part = |n| call_scalars("split_part", vec![s("a,b,,c"), s(","), i(n)]);
        assert_eq!(part(1).unwrap(), s("a"));
        assert_eq!(part(3).unwrap(), s(""));
        assert_eq!(part(4).unwrap(), s("c"));
        assert_eq!(part(5).unwrap(), s(""));
        assert_eq!(part(-1).unwrap(), s("c"));
        assert_eq!(part(-4).unwrap(), s("a"));
        assert_eq!(part(i64::MIN).unwrap(), s(""));
        assert!(err_msg(part(0)).contains("must not be zero"));
        assert_eq!(
            call_scalars("split_part", vec![s("abc"), s(""), i(1)]).unwrap(),
            s("abc")
        );
        assert_eq!(
            call_scalars("split_part", vec![s("abc"), s(""), i(2)]).unwrap(),
            s("")
        );
    }
}
