//! List functions: `string_to_array` / `string_split` cut a string into a list of strings (the
//! first half of a word count; `UNNEST` turns the list into rows), `cardinality` counts a list's
//! elements.
//!
//! `string_to_array(s, sep)` follows PostgreSQL: an empty string gives an empty list, an empty
//! separator gives the whole string as one element, a NULL separator splits into characters.
//! `string_split(s, sep)` (alias `str_split`) follows DuckDB: an empty string gives `['']` and
//! an empty separator splits into characters; a NULL separator gives NULL.

use std::sync::Arc;

use arrow::array::{Array, Int64Array, ListBuilder, StringBuilder};
use arrow::datatypes::DataType;

use super::{Param, Signature, arity, bad_type, builtin, eval};
use crate::error::Result;
use crate::functions::{ColumnarValue, ScalarFunction};
use crate::logical::unnest::list_element_type;

/// The list built-ins.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    let strings = DataType::new_list(DataType::Utf8, true);
    vec![
        builtin(
            "string_to_array",
            Signature::exact(&[Param::Str, Param::Str], strings.clone()),
            |a, n| split(a, n, SplitStyle::Postgres),
        ),
        builtin(
            "string_split",
            Signature::exact(&[Param::Str, Param::Str], strings),
            |a, n| split(a, n, SplitStyle::DuckDb),
        ),
        builtin("cardinality", Signature::Custom(list_arg), cardinality),
    ]
}

/// How the edge cases of splitting behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SplitStyle {
    Postgres,
    DuckDb,
}

fn split(args: &[ColumnarValue], num_rows: usize, style: SplitStyle) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let s = a[0].strings()?;
        let sep = a[1].strings()?;
        let mut out = ListBuilder::new(StringBuilder::new());
        for i in 0..rows {
            let Some(v) = s.get(i) else {
                out.append_null();
                continue;
            };
            match (sep.get(i), style) {
                (None, SplitStyle::DuckDb) => {
                    out.append_null();
                    continue;
                }
                (None, SplitStyle::Postgres) | (Some(""), SplitStyle::DuckDb) => {
                    let mut buf = [0u8; 4];
                    for c in v.chars() {
                        out.values().append_value(c.encode_utf8(&mut buf));
                    }
                }
                (Some(_), SplitStyle::Postgres) if v.is_empty() => {}
                (Some(""), SplitStyle::Postgres) => out.values().append_value(v),
                (Some(d), _) => {
                    for part in v.split(d) {
                        out.values().append_value(part);
                    }
                }
            }
            out.append(true);
        }
        Ok(Arc::new(out.finish()))
    })
}

/// One argument that must be a list (or NULL); returns BIGINT.
fn list_arg(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 1)?;
    if args[0] != DataType::Null && list_element_type(&args[0]).is_none() {
        return Err(bad_type(name, &args[0]));
    }
    Ok((args.to_vec(), DataType::Int64))
}

fn cardinality(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let list = &a[0].array;
        let len = |i: usize| -> Option<i64> {
            let i = if a[0].scalar { 0 } else { i };
            if list.is_null(i) {
                return None;
            }
            Some(match list.data_type() {
                DataType::List(_) => {
                    let o = list.as_any().downcast_ref::<arrow::array::ListArray>()?;
                    o.value_length(i) as i64
                }
                DataType::LargeList(_) => {
                    let o = list
                        .as_any()
                        .downcast_ref::<arrow::array::LargeListArray>()?;
                    o.value_length(i)
                }
                DataType::FixedSizeList(_, size) => *size as i64,
                _ => return None,
            })
        };
        Ok(Arc::new((0..rows).map(len).collect::<Int64Array>()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, AsArray, StringArray};
    use datafusion_common::ScalarValue;

    fn run(style: SplitStyle, s: Vec<Option<&str>>, sep: Option<&str>) -> Vec<Option<Vec<String>>> {
        let arr: ArrayRef = Arc::new(StringArray::from(s.clone()));
        let args = [
            ColumnarValue::Array(arr),
            ColumnarValue::Scalar(ScalarValue::Utf8(sep.map(str::to_string))),
        ];
        let out = split(&args, s.len(), style)
            .unwrap()
            .into_array(s.len())
            .unwrap();
        let l = out.as_list::<i32>();
        (0..l.len())
            .map(|i| {
                l.is_valid(i).then(|| {
                    let v = l.value(i);
                    v.as_string::<i32>()
                        .iter()
                        .map(|x| x.unwrap_or("").to_string())
                        .collect()
                })
            })
            .collect()
    }

    fn owned(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn postgres_edge_cases() {
        let got = run(
            SplitStyle::Postgres,
            vec![Some("a b"), Some(""), None],
            Some(" "),
        );
        assert_eq!(got, vec![owned(&["a", "b"]), owned(&[]), None]);
        let got = run(SplitStyle::Postgres, vec![Some("ab")], Some(""));
        assert_eq!(got, vec![owned(&["ab"])]);
        let got = run(SplitStyle::Postgres, vec![Some("ab")], None);
        assert_eq!(got, vec![owned(&["a", "b"])]);
    }

    #[test]
    fn duckdb_edge_cases() {
        let got = run(SplitStyle::DuckDb, vec![Some("a,,b"), Some("")], Some(","));
        assert_eq!(got, vec![owned(&["a", "", "b"]), owned(&[""])]);
        let got = run(SplitStyle::DuckDb, vec![Some("ab")], Some(""));
        assert_eq!(got, vec![owned(&["a", "b"])]);
        let got = run(SplitStyle::DuckDb, vec![Some("ab")], None);
        assert_eq!(got, vec![None]);
    }
}
